import type { DnsDirectory, DnsInstance } from "../../../../agent/dns/directory";

/**
 * A small environment:
 * - stack "web" (no stack-wide discovery): frontend (links api → api, cache → redis), worker
 * - stack "backend" (stack-wide discovery): api, redis, db
 * Instance states cover running/healthy/unhealthy/stopped.
 */
export const ip = {
  fe1: "10.42.0.2", fe2: "10.42.0.3", worker1: "10.42.0.4",
  api1: "10.42.1.2", api2: "10.42.1.3", api3: "10.42.1.4", redis1: "10.42.1.5", db1: "10.42.1.6",
};

export function inst(id: keyof typeof ip, serviceId: string, over: Partial<DnsInstance> = {}): DnsInstance {
  return { id, ip: ip[id], serviceId, running: true, ...over };
}

export function sampleDirectory(extra: DnsInstance[] = []): DnsDirectory {
  return {
    stacks: [
      { id: "st-web", name: "web", stackWideDiscovery: false },
      { id: "st-be", name: "backend", stackWideDiscovery: true },
    ],
    services: [
      { id: "sv-fe", name: "frontend", stackId: "st-web", links: { api: "sv-api", cache: "sv-redis" } },
      { id: "sv-worker", name: "worker", stackId: "st-web", links: {} },
      { id: "sv-api", name: "api", stackId: "st-be", links: {} },
      { id: "sv-redis", name: "redis", stackId: "st-be", links: {} },
      { id: "sv-db", name: "db", stackId: "st-be", links: {} },
    ],
    instances: [
      inst("fe1", "sv-fe"),
      inst("fe2", "sv-fe"),
      inst("worker1", "sv-worker", { running: false }),
      inst("api1", "sv-api", { healthy: true }),
      inst("api2", "sv-api", { healthy: false }),
      inst("api3", "sv-api", { running: false }),
      inst("redis1", "sv-redis"),
      inst("db1", "sv-db"),
      ...extra,
    ],
  };
}

/** A service `big` of `n` running instances in stack "web", linked from frontend as `big`. */
export function withBigService(dir: DnsDirectory, n: number): DnsDirectory {
  const instances = Array.from({ length: n }, (_, i) => ({
    id: `big${i}`, ip: `10.42.${2 + Math.floor(i / 250)}.${2 + (i % 250)}`, serviceId: "sv-big", running: true,
  }));
  return {
    stacks: dir.stacks,
    services: [
      ...dir.services.map((s) => (s.id === "sv-fe" ? { ...s, links: { ...s.links, big: "sv-big" } } : s)),
      { id: "sv-big", name: "big", stackId: "st-web", links: {} },
    ],
    instances: [...dir.instances, ...instances],
  };
}
