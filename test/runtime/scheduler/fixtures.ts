/** Small builders for scheduler tests: hosts, instances, services and result summaries. */
import type {
  ClusterSnapshot,
  HostPort,
  HostSnapshot,
  HostState,
  InstanceSnapshot,
  ScheduleRequest,
  ScheduleResult,
  ServiceToPlace,
} from "../../../runtime/scheduler";

export const STACK = "shop";

export function inst(name: string, opts: { service?: string; labels?: Record<string, string>; ports?: HostPort[]; id?: string } = {}): InstanceSnapshot {
  return { id: opts.id ?? `i-${name}`, serviceId: opts.service, name, labels: opts.labels ?? {}, ports: opts.ports ?? [] };
}

/** Host `name` has id `id-<name>`, so tests can tell ids from names in results. */
export function host(name: string, labels: Record<string, string> = {}, instances: InstanceSnapshot[] = [], state: HostState = "active"): HostSnapshot {
  return { id: `id-${name}`, name, labels, state, instances };
}

export function snapshot(...hosts: HostSnapshot[]): ClusterSnapshot {
  return { hosts };
}

export function service(name: string, labels: Record<string, string> = {}, ports: HostPort[] = []): ServiceToPlace {
  return { id: `svc-${name}`, name, stackName: STACK, labels, ports };
}

export function request(svc: ServiceToPlace, count: number | "global", extra: Partial<ScheduleRequest> = {}): ScheduleRequest {
  return { service: svc, count, ...extra };
}

/** Host names of the placements, in placement order. */
export function hostsOf(result: ScheduleResult): string[] {
  return result.placements.map((p) => p.hostName);
}

/** Sorted distinct host names of the placements. */
export function hostSet(result: ScheduleResult): string[] {
  return [...new Set(hostsOf(result))].sort();
}

/** Host name → number of placements there. */
export function countsByHost(result: ScheduleResult): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of hostsOf(result)) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

export function tcp(port: number, ip?: string): HostPort {
  return ip === undefined ? { port, protocol: "tcp" } : { port, protocol: "tcp", ip };
}

export function udp(port: number, ip?: string): HostPort {
  return ip === undefined ? { port, protocol: "udp" } : { port, protocol: "udp", ip };
}

export const A = "io.rancher.scheduler.affinity:";
