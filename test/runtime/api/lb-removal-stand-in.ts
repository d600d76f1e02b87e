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

/**
 * The same for every load balancer of every environment, until stop() (for tests whose
 * deletes run where the test cannot reach them, such as a child process or the engine).
 */
export function removeRemovingLoadBalancers(store: Store): { stop(): Promise<void> } {
  let stopped = false;
  const pass = async () => {
    for (const env of await store.listEnvironments()) {
      const snap = await store.snapshot(env.id);
      const gone = (snap.loadBalancers ?? []).filter((lb) => lb.state === "removing" &&
        !snap.instances.some((i) => i.kind === "lb" && i.serviceId === lb.id));
      if (gone.length) await store.write(env.id, { remove: gone.map((lb) => ({ kind: "loadBalancer" as const, id: lb.id })) });
    }
    return stopped;
  };
  const running = waitFor(pass, { what: "the test to stop the load balancer removal stand-in", timeoutMs: 600_000, maxIntervalMs: 100 });
  return {
    async stop() {
      stopped = true;
      await running;
    },
  };
}
