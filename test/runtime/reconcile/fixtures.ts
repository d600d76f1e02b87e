import type { EnvironmentRecord, HostRecord, InstanceRecord, ServiceRecord, ServiceSpec, StackRecord } from "../../../runtime/protocol/model";
import type { PlanInput } from "../../../runtime/reconcile/plan-types";

export const T0 = Date.parse("2026-01-01T00:00:00Z");

export function env(state: EnvironmentRecord["state"] = "active"): EnvironmentRecord {
  return { id: "e1", name: "env", network: { cidr: "10.42.0.0/16", hostSubnetPrefix: 24 }, state, createdAt: "x", rev: 1 };
}

/** An established host: it has its subnet already (`h3` → 10.42.3.0/24), so passes don't assign one. */
export function host(id: string, labels: Record<string, string> = {}, extra: Partial<HostRecord> = {}): HostRecord {
  const n = Number(/\d+$/.exec(id)?.[0] ?? 0);
  return { id, envId: "e1", name: id, labels, subnet: `10.42.${n}.0/24`, state: "active", deactivated: false, createdAt: "x", rev: 1, ...extra };
}

/** A host that just registered: no subnet yet. */
export function newHost(id: string, extra: Partial<HostRecord> = {}): HostRecord {
  const h = host(id, {}, extra);
  if (!("subnet" in extra)) delete h.subnet;
  return h;
}

export function stack(id = "s1", name = "app", state: StackRecord["state"] = "active"): StackRecord {
  return { id, envId: "e1", name, state, createdAt: "x", rev: 1 };
}

export function service(id: string, spec: Partial<ServiceSpec> = {}, extra: Partial<ServiceRecord> = {}): ServiceRecord {
  return {
    id, envId: "e1", stackId: "s1", name: id, specVersion: 1, state: "active", transitioning: "no", createdAt: "x", rev: 1,
    spec: { image: "local/busybox", env: {}, ports: [], scale: 1, global: false, links: {}, labels: {}, restartPolicy: { name: "always" }, ...spec },
    ...extra,
  };
}

export function instance(id: string, serviceId: string, hostId: string, index: number, extra: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    id, envId: "e1", serviceId, stackId: "s1", hostId, name: `app-${serviceId}-${index}`, index, specVersion: 1,
    spec: { image: "local/busybox", env: {}, ports: [], labels: { "io.drover.service": serviceId, "io.rancher.stack_service.name": `app/${serviceId}` }, restartPolicy: { name: "always" } },
    state: "active", createdAt: "x", rev: 1, ...extra,
  };
}

/** A plan input with live heartbeats for every host unless told otherwise. */
export function input(parts: {
  hosts: HostRecord[]; services?: ServiceRecord[]; instances?: InstanceRecord[]; stacks?: StackRecord[];
  env?: EnvironmentRecord; heartbeats?: PlanInput["heartbeats"]; now?: number; graceMs?: number;
}): PlanInput {
  let n = 0;
  const heartbeats = parts.heartbeats ?? Object.fromEntries(parts.hosts.map((h) => [h.id, 5000]));
  return {
    snapshot: {
      env: parts.env ?? env(), rev: 1, hosts: parts.hosts, stacks: parts.stacks ?? [stack()],
      services: parts.services ?? [], instances: parts.instances ?? [],
    },
    heartbeats, observed: {}, desired: {}, teardownDone: {},
    now: parts.now ?? T0, seed: 7, graceMs: parts.graceMs ?? 30_000,
    newId: () => `new${++n}`,
  };
}
