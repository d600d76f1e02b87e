import type { HostRecord, InstanceRecord } from "../protocol/model";
import type { ClusterSnapshot, DockerDiskSpace } from "../scheduler";
import { toInstanceSnapshot } from "./instance-factory";
import { groupBy } from "./group-by";
import { takesNewInstances } from "./liveness";

/**
 * The scheduler's view of an environment: every host that is not removed, with the
 * instances given (the ones that stay). Hosts that take no new instances show a state the
 * scheduler will not place on, with the reason as the state's text. `dockerDisk` (host id →
 * the latest figure its agent reported) lets the scheduler avoid hosts whose Docker data
 * root is nearly full. Pure.
 */
export function clusterSnapshot(hosts: HostRecord[], instances: InstanceRecord[], dockerDisk: DockerDiskFigures = {}): ClusterSnapshot {
  const byHost = groupBy(instances, (i) => i.hostId);
  return {
    hosts: hosts.filter((h) => h.state !== "removed").map((h) => ({
      id: h.id,
      name: h.name,
      labels: h.labels,
      // The scheduler places only on `active` hosts: a deactivated host must look inactive to
      // it, and a host without a subnet (the network is full) has no address to give.
      state: !takesNewInstances(h) ? (h.deactivated ? "inactive" : h.state) : h.subnet ? "active" : "without a subnet (network full)",
      instances: (byHost.get(h.id) ?? []).map(toInstanceSnapshot),
      ...(dockerDisk[h.id] ? { dockerDisk: dockerDisk[h.id] } : {}),
    })),
  };
}

/** Host id → the space on its Docker data root, from its agent's latest stats sample (absent: none). */
export type DockerDiskFigures = Record<string, DockerDiskSpace | undefined>;
