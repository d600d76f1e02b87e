import type { HostRecord, InstanceRecord, ServiceRecord, StackRecord } from "../protocol/model";
import { hostPortsOf, indexSnapshot, scheduleAndCommit, type SnapshotIndex } from "../scheduler";
import { clusterSnapshot } from "./cluster-snapshot";
import { groupBy } from "./group-by";
import { keepsInstances } from "./liveness";
import { newInstance, toInstanceSnapshot } from "./instance-factory";
import type { InstanceAddresses } from "./plan-network";

export interface ServicePlan {
  /** Instances to create. */
  create: InstanceRecord[];
  /** Instance ids to remove, with why (for the log). */
  remove: { id: string; why: string }[];
  /** Services whose progress fields or record changed. */
  services: ServiceRecord[];
  /** Services and stacks whose removal is complete. */
  deleteServices: string[];
  deleteStacks: string[];
}

/**
 * Decides, for every service, which instances must go (scaled down, outdated spec, host
 * gone or deactivated, service removed) and where new ones go (scale up, replacements),
 * each new one with an address from its host's subnet (none left: not created, the service
 * shows why). Hosts are the already-updated records. Pure: the scheduler gets `seed`.
 */
export function planServices(
  hosts: HostRecord[], stacks: StackRecord[], services: ServiceRecord[], instances: InstanceRecord[],
  envRemoving: boolean, seed: number, newId: () => string, now: number, addresses: InstanceAddresses,
): ServicePlan {
  const plan: ServicePlan = { create: [], remove: [], services: [], deleteServices: [], deleteStacks: [] };
  const hostById = new Map(hosts.map((h) => [h.id, h]));
  const stackById = new Map(stacks.map((s) => [s.id, s]));
  const byService = groupBy(instances, (i) => i.serviceId);

  // Instances that survive this pass, for the scheduler's snapshot.
  const removed = new Set<string>();
  const drop = (i: InstanceRecord, why: string) => { removed.add(i.id); plan.remove.push({ id: i.id, why }); };

  for (const service of services) {
    const stack = stackById.get(service.stackId);
    const own = byService.get(service.id) ?? [];
    const goingAway = envRemoving || !stack || stack.state !== "active" || service.state === "removing" || service.state === "removed";
    if (goingAway || service.state === "inactive") {
      for (const i of own) drop(i, `service ${service.name} is ${goingAway ? "being removed" : "inactive"}`);
      if (goingAway) plan.deleteServices.push(service.id);
      continue;
    }
    for (const i of own) {
      const host = hostById.get(i.hostId);
      if (!keepsInstances(host)) drop(i, `host ${host?.name ?? i.hostId} is ${host?.deactivated ? "deactivated" : host?.state ?? "gone"}`);
      else if (i.specVersion < service.specVersion) drop(i, `spec changed (v${i.specVersion} → v${service.specVersion})`);
    }
  }
  for (const stack of stacks) {
    if (stack.state !== "active" || envRemoving) {
      const left = services.some((s) => s.stackId === stack.id && !plan.deleteServices.includes(s.id));
      if (!left) plan.deleteStacks.push(stack.id);
    }
  }
  if (envRemoving) return plan;

  // Scheduler view: hosts that take new instances, with the instances that stay.
  const index = indexSnapshot(clusterSnapshot(hosts, instances.filter((i) => !removed.has(i.id))));
  for (const service of services) {
    if (service.state !== "active" || plan.deleteServices.includes(service.id)) continue;
    const stack = stackById.get(service.stackId)!;
    const live = (byService.get(service.id) ?? []).filter((i) => !removed.has(i.id));
    let transitioning: ServiceRecord["transitioning"] = live.every((i) => i.state === "active") ? "no" : "yes";
    let message: string | undefined;

    if (!service.spec.global && live.length > service.spec.scale) {
      // Rancher scales down from the highest index.
      const extra = [...live].sort((a, b) => b.index - a.index).slice(0, live.length - service.spec.scale);
      for (const i of extra) { drop(i, `scale ${service.spec.scale}`); index.removeInstance(i.id); }
    }
    const want = service.spec.global ? "global" : Math.max(0, service.spec.scale - live.length);
    if (want === "global" || want > 0) {
      const used = new Set(live.filter((i) => !removed.has(i.id)).map((i) => i.index));
      const request = {
        service: { id: service.id, name: service.name, stackName: stack.name, labels: service.spec.labels, ports: hostPortsOf(service.spec.ports) },
        count: want,
      } as const;
      const result = scheduleAndCommit(index, request, `${seed}:${service.id}`);
      const noAddress: string[] = [];
      for (const p of result.placements) {
        const addr = addresses.take(p.hostId);
        if ("reason" in addr) {
          // Not created: take it back out of the scheduler's view so later services don't count it.
          index.removeInstance(p.instance.id);
          noAddress.push(addr.reason);
          continue;
        }
        plan.create.push(newInstance(newId(), service, stack, p.hostId, nextIndex(used), now, addr.ip));
      }
      const problems = [
        ...(!result.ok && result.unplaceable ? [result.unplaceable.message] : []),
        ...(noAddress.length > 0 ? [addressProblem(`${stack.name}/${service.name}`, noAddress)] : []),
      ];
      if (problems.length > 0) {
        transitioning = "error";
        message = problems.join("; ");
      } else if (result.placements.length > 0) {
        transitioning = "yes";
      }
    }
    if (service.transitioning !== transitioning || service.transitioningMessage !== message) {
      const next: ServiceRecord = { ...service, transitioning };
      if (message === undefined) delete next.transitioningMessage;
      else next.transitioningMessage = message;
      plan.services.push(next);
    }
  }
  return plan;
}

/** `2 instances of app/web got no address: host h1: subnet ... has no free address`. */
function addressProblem(service: string, reasons: string[]): string {
  return `${reasons.length} instance${reasons.length === 1 ? "" : "s"} of ${service} got no address: ${[...new Set(reasons)].join("; ")}`;
}

/** Per `used` set: no free index below this one (indexes are only ever added), so n placements cost O(n), not O(n²). */
const lowestFree = new WeakMap<Set<number>, number>();

function nextIndex(used: Set<number>): number {
  let i = lowestFree.get(used) ?? 1;
  while (used.has(i)) i++;
  used.add(i);
  lowestFree.set(used, i + 1);
  return i;
}

export type { SnapshotIndex };
