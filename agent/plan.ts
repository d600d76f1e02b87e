import { containerLabels } from "../runtime/protocol/agent-protocol";
import type { DesiredInstance, HostDesiredState, RestartPolicySpec } from "../runtime/protocol/model";
import { instanceHash } from "./docker/container-config";
import { withSidekicks } from "./sidekicks";

/**
 * Pure reconcile planning: what to do to make a host's drover containers match its desired
 * document. No I/O, so every rule is unit-tested; agent/reconcile.ts applies the result.
 */

/** A container as `docker ps -a` shows it (name without the leading slash). */
export interface ManagedContainer {
  id: string;
  name: string;
  /** Docker's State: created, running, paused, restarting, removing, exited, dead. */
  state: string;
  labels: Record<string, string>;
}

export type PlanAction =
  | { kind: "remove"; containerId: string; name: string; instanceId?: string; reason: "not-desired" | "duplicate" }
  | { kind: "recreate"; containerId: string; instance: DesiredInstance; reason: "spec-changed" | "renamed" | "dead" }
  | { kind: "create"; instance: DesiredInstance }
  | { kind: "start"; containerId: string; instance: DesiredInstance };

/** Order actions run in: removals first so a name or host port is free before it is reused. */
const kindOrder: Record<PlanAction["kind"], number> = { remove: 0, recreate: 1, create: 2, start: 3 };

/** A container drover made for this host. Anything else is never touched, whatever its name. */
export function isOwnContainer(labels: Record<string, string> | undefined, hostId: string): boolean {
  return labels?.[containerLabels.managed] === "true" && labels[containerLabels.host] === hostId;
}

/**
 * Whether a stopped container should be started again by the agent. `created` means it was
 * never started (the agent stopped between create and start). An `exited` container is started
 * only under `always`: Docker already restarts on-failure/unless-stopped containers itself, and
 * an exited one there means retries ran out, it exited cleanly, or someone stopped it on purpose.
 */
export function shouldStart(state: string, policy: RestartPolicySpec | undefined): boolean {
  if (state === "created") return true;
  return state === "exited" && policy?.name === "always";
}

export function planHost(desired: HostDesiredState, containers: ManagedContainer[]): PlanAction[] {
  const hostId = desired.hostId;
  const own = containers.filter((c) => isOwnContainer(c.labels, hostId));
  const byInstance = new Map<string, ManagedContainer[]>();
  for (const c of own) {
    const id = c.labels[containerLabels.instance] ?? "";
    byInstance.set(id, [...(byInstance.get(id) ?? []), c]);
  }

  const actions: PlanAction[] = [];
  const wanted = new Set<string>();
  for (const instance of withSidekicks(desired.instances)) {
    if (wanted.has(instance.id)) continue; // a duplicate id in the document: the first one wins
    wanted.add(instance.id);
    const hash = instanceHash(instance);
    const candidates = byInstance.get(instance.id) ?? [];
    if (candidates.length === 0) {
      actions.push({ kind: "create", instance });
      continue;
    }
    const [keep, ...extra] = [...candidates].sort((a, b) => score(b, instance, hash) - score(a, instance, hash) || a.id.localeCompare(b.id));
    for (const c of extra) actions.push({ kind: "remove", containerId: c.id, name: c.name, instanceId: instance.id, reason: "duplicate" });
    if (keep.labels[containerLabels.specHash] !== hash) {
      actions.push({ kind: "recreate", containerId: keep.id, instance, reason: "spec-changed" });
    } else if (keep.name !== instance.name) {
      actions.push({ kind: "recreate", containerId: keep.id, instance, reason: "renamed" });
    } else if (keep.state === "dead") {
      actions.push({ kind: "recreate", containerId: keep.id, instance, reason: "dead" });
    } else if (shouldStart(keep.state, instance.spec.restartPolicy)) {
      actions.push({ kind: "start", containerId: keep.id, instance });
    }
  }

  for (const c of own) {
    const id = c.labels[containerLabels.instance];
    if (id === undefined || !wanted.has(id)) {
      actions.push({ kind: "remove", containerId: c.id, name: c.name, instanceId: id, reason: "not-desired" });
    }
  }

  return actions.sort((a, b) => kindOrder[a.kind] - kindOrder[b.kind] || actionName(a).localeCompare(actionName(b)));
}

/** Which of several containers of one instance to keep: the one that needs the least work. */
function score(c: ManagedContainer, instance: DesiredInstance, hash: string): number {
  return (c.labels[containerLabels.specHash] === hash ? 4 : 0) + (c.name === instance.name ? 2 : 0) + (c.state === "running" ? 1 : 0);
}

function actionName(a: PlanAction): string {
  return a.kind === "remove" ? a.name : a.instance.name;
}
