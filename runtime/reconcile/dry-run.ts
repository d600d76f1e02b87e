/**
 * Where a service's instances would go with a given spec, as `nomad job plan` shows it
 * (pure). Its own current instances are left out of the picture, as after a rollout that
 * replaced them all, so only the new spec and everything else on the hosts decide.
 */
import type { InstanceRecord, ServiceRecord, ServiceSpec, StackRecord, HostRecord } from "../protocol/model";
import { hostPortsOf, schedule, type Unplaceable } from "../scheduler";
import { clusterSnapshot } from "./cluster-snapshot";
import { instanceName } from "./instance-factory";

export interface DryRunPlacement {
  ok: boolean;
  /** One per instance the spec asks for, in index order. */
  placements: Array<{ name: string; hostId: string; hostName: string }>;
  unplaceable?: Unplaceable;
  /** Global services: hosts left out and why (not an error). */
  skipped?: Record<string, string[]>;
}

export function dryRunPlacement(
  hosts: HostRecord[], instances: InstanceRecord[], service: Pick<ServiceRecord, "id" | "name">, spec: ServiceSpec, stack: StackRecord, seed: number | string,
): DryRunPlacement {
  const others = instances.filter((i) => i.serviceId !== service.id && i.state !== "removed");
  const result = schedule(clusterSnapshot(hosts, others), {
    service: { id: service.id, name: service.name, stackName: stack.name, labels: spec.labels, ports: hostPortsOf(spec.ports) },
    count: spec.global ? "global" : spec.scale,
  }, seed);
  return {
    ok: result.ok,
    placements: result.placements.map((p, k) => ({ name: instanceName(stack.name, service.name, k + 1), hostId: p.hostId, hostName: p.hostName })),
    ...(result.unplaceable ? { unplaceable: result.unplaceable } : {}),
    ...(result.skipped && Object.keys(result.skipped).length ? { skipped: result.skipped } : {}),
  };
}
