/**
 * A load balancer listens on its source ports on every address of the hosts it runs on, so
 * a source port that a service's container already publishes on every host the load
 * balancer could go to leaves it nowhere to run. The scheduler answers that in a dry run:
 * one instance per eligible host (`global`) without ports, then with each source port, and
 * a port no eligible host takes is refused with every host's reason. No eligible host at all
 * (no hosts yet, labels matching none) is not a port problem: the load balancer waits, as a
 * service would. Pure.
 */
import type { HostRecord, InstanceRecord, LoadBalancerSpec, ServiceRecord } from "../protocol/model";
import type { Problem } from "../protocol/validate/problems";
import { clusterSnapshot } from "../reconcile/cluster-snapshot";
import { indexSnapshot, reasonLines, schedule, type HostPort, type ScheduleResult } from "../scheduler";

export interface LoadBalancerToPlace {
  /** Its id (a new one for a create): its own instances do not count against it. */
  id: string;
  name: string;
  stackName: string;
  spec: LoadBalancerSpec;
}

export interface PortCollision extends Problem {
  /** Host → why it cannot take the port (`port 80/tcp in use (instance web-nginx-1)`). */
  hosts: Record<string, string[]>;
}

/** One problem per source port (at its first rule) that no eligible host has free. */
export function sourcePortCollisions(
  lb: LoadBalancerToPlace, hosts: HostRecord[], instances: InstanceRecord[], services: ServiceRecord[],
): PortCollision[] {
  // Instances on their way out free their ports; the load balancer's own are replaced by it.
  const leaving = new Set(services.filter((s) => s.state !== "active" && s.state !== "updating").map((s) => s.id));
  const staying = instances.filter((i) => i.serviceId !== lb.id && !leaving.has(i.serviceId) && i.state !== "removing" && i.state !== "removed");
  const index = indexSnapshot(clusterSnapshot(hosts, staying));
  const place = (ports: HostPort[]): ScheduleResult => schedule(index, {
    service: { id: lb.id, name: lb.name, stackName: lb.stackName, labels: lb.spec.labels, ports },
    count: "global",
  }, lb.id);

  const eligible = place([]).placements;
  if (eligible.length === 0) return [];
  // The scheduler keys reasons by host name, or `name (id)` when two hosts share a name.
  const eligibleKeys = new Set(eligible.flatMap((p) => [p.hostName, `${p.hostName} (${p.hostId})`]));

  const out: PortCollision[] = [];
  const checked = new Set<number>();
  lb.spec.portRules.forEach((rule, i) => {
    if (checked.has(rule.sourcePort)) return;
    checked.add(rule.sourcePort);
    const result = place([{ port: rule.sourcePort, protocol: "tcp" }]);
    if (result.placements.length > 0) return;
    const reasons = Object.fromEntries(Object.entries(result.skipped ?? {}).filter(([host]) => eligibleKeys.has(host)));
    const field = `portRules[${i}].sourcePort`;
    out.push({
      code: "Conflict",
      field,
      message: `${field}: port ${rule.sourcePort}/tcp is taken on every host this load balancer can run on: ${reasonLines(reasons).join("; ")}`,
      hosts: reasons,
    });
  });
  return out;
}
