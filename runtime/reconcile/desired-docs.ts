import type { DesiredInstance, HostDesiredState, HostNetworkSpec, HostRecord, InstanceRecord } from "../protocol/model";

export interface DesiredDoc {
  hostId: string;
  instances: DesiredInstance[];
  network?: HostNetworkSpec;
}

/**
 * The desired documents that differ from what is stored: for every host that still has an
 * agent to listen, the instances that should run there and its part of the overlay. Pure.
 */
export function changedDesiredDocs(
  hosts: HostRecord[], instances: InstanceRecord[], stored: Record<string, HostDesiredState | undefined>,
  networks: Map<string, HostNetworkSpec> = new Map(),
): DesiredDoc[] {
  const out: DesiredDoc[] = [];
  // Grouped once: filtering all instances for every host is hosts × instances per pass.
  const byHost = new Map<string, InstanceRecord[]>();
  for (const i of instances) {
    const list = byHost.get(i.hostId);
    if (list) list.push(i);
    else byHost.set(i.hostId, [i]);
  }
  for (const host of hosts) {
    if (host.state === "removed" || host.state === "removing") continue;
    const wanted = (byHost.get(host.id) ?? []).map(toDesired).sort((a, b) => a.id.localeCompare(b.id));
    const network = networks.get(host.id);
    const current = stored[host.id]?.instances ?? [];
    const sameInstances = canonical(wanted) === canonical([...current].sort((a, b) => a.id.localeCompare(b.id)));
    if (!sameInstances || canonical(network ?? null) !== canonical(stored[host.id]?.network ?? null)) {
      out.push({ hostId: host.id, instances: wanted, ...(network ? { network } : {}) });
    }
  }
  return out;
}

function toDesired(i: InstanceRecord): DesiredInstance {
  return { id: i.id, name: i.name, serviceId: i.serviceId, stackId: i.stackId, spec: i.spec, ...(i.ip ? { ip: i.ip } : {}) };
}

/** JSON with sorted object keys, so equal documents compare equal whatever their key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : v);
}
