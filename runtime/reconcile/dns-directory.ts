import type { DnsDirectory } from "../protocol/dns";
import type { InstanceRecord, ServiceRecord, StackRecord } from "../protocol/model";

/**
 * The environment's DNS directory: every instance with an overlay address (running or not:
 * a stopped container's queries still need a view) with its health where its service has a
 * check and whether it is draining, services with their links, stacks with their discovery
 * switch. Load balancers read the same document for their backends, so DNS and load
 * balancers follow one truth. Sorted, so an unchanged environment gives an identical document. Pure.
 */
export function buildDnsDirectory(stacks: StackRecord[], services: ServiceRecord[], instances: InstanceRecord[]): DnsDirectory {
  const byId = <T extends { id: string }>(a: T, b: T) => a.id.localeCompare(b.id);
  return {
    instances: instances
      .filter((i) => i.ip && i.kind !== "lb" && i.state !== "removing" && i.state !== "removed")
      .map((i) => ({
        id: i.id, ip: i.ip!, serviceId: i.serviceId, running: i.status?.state === "running",
        // Only where the service has a check: absent means "running suffices".
        ...(i.healthState !== undefined ? { healthy: i.healthState === "healthy" } : {}),
        ...(i.stopping ? { draining: true } : {}),
      }))
      .sort(byId),
    services: services
      .filter((s) => s.state !== "removing" && s.state !== "removed")
      // A sidekick's name answers with its service's addresses (it shares their network
      // namespace), for the service's own containers: a link of the service to itself.
      .map((s) => ({ id: s.id, name: s.name, stackId: s.stackId, links: { ...Object.fromEntries((s.spec.sidekicks ?? []).map((k) => [k.name, s.id])), ...s.spec.links } }))
      .sort(byId),
    stacks: stacks
      .filter((s) => s.state !== "removing" && s.state !== "removed")
      .map((s) => ({ id: s.id, name: s.name, stackWideDiscovery: s.stackWideDiscovery === true }))
      .sort(byId),
  };
}
