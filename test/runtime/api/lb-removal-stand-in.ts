/**
 * Stands in for the reconciler's load balancer planner (the lead's, not on this branch): a
 * load balancer in state `removing` whose HAProxy instances are gone has its record removed.
 * Polls with a deadline until the load balancer is removing, then removes it; harmless where
 * the real planner got there first (removing an absent record writes nothing).
 */
import type { Store } from "../../../runtime/store/store";
import { waitFor } from "../../support/wait";

export async function removeOnceRemoving(store: Store, envId: string, lbId: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(async () => {
    const lb = await store.get(envId, "loadBalancer", lbId);
    if (lb === undefined) return true;
    if (lb.state !== "removing") return false;
    const snap = await store.snapshot(envId);
    if (snap.instances.some((i) => i.kind === "lb" && i.serviceId === lbId)) return false;
    await store.write(envId, { remove: [{ kind: "loadBalancer", id: lbId }] });
    return true;
  }, { what: `load balancer ${lbId} to be removing (to remove its record)`, timeoutMs });
}
