import type { DesiredInstance, HostDesiredState, HostRecord, InstanceRecord } from "../protocol/model";

/**
 * The desired documents that differ from what is stored: for every host that still has an
 * agent to listen, the instances that should run there. Pure.
 */
export function changedDesiredDocs(
  hosts: HostRecord[], instances: InstanceRecord[], stored: Record<string, HostDesiredState | undefined>,
): { hostId: string; instances: DesiredInstance[] }[] {
  const out: { hostId: string; instances: DesiredInstance[] }[] = [];
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
    const current = stored[host.id]?.instances ?? [];
    if (canonical(wanted) !== canonical([...current].sort((a, b) => a.id.localeCompare(b.id)))) {
      out.push({ hostId: host.id, instances: wanted });
    }
  }
  return out;
}

function toDesired(i: InstanceRecord): DesiredInstance {
  return { id: i.id, name: i.name, serviceId: i.serviceId, stackId: i.stackId, spec: i.spec };
}

/** JSON with sorted object keys, so equal documents compare equal whatever their key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : v);
}
