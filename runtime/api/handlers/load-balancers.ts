/**
 * /v1/environments/:envId/loadbalancers. A load balancer runs as HAProxy instances (instance
 * records of kind "lb") that the reconciler places like a service's; `served` says whether
 * one of them serves the current rules. A create or update is refused when a source port is
 * published by services on every host it could run on (load-balancer-ports.ts). DELETE marks
 * it `removing`: the reconciler stops its instances and then removes the record; a removing
 * load balancer takes no PUT or PATCH. Deleting a service a load balancer targets is allowed
 * and drops the rules that target it, as Rancher's removeFromLoadBalancerServices did (see
 * rulesWithoutTargets).
 */
import { DroverError } from "../../protocol/errors";
import type { InstanceRecord, LoadBalancerRecord } from "../../protocol/model";
import { validateLoadBalancerCreate, validateLoadBalancerUpdate } from "../../protocol/validate/load-balancer";
import type { UpdateMode } from "../../protocol/validate/stack";
import type { EnvSnapshot } from "../../store/store";
import { visibleEnv } from "../auth";
import { readJsonBody } from "../body";
import type { AuthedContext } from "../context";
import type { FilterSpec } from "../filters";
import { sourcePortCollisions } from "../load-balancer-ports";
import { loadBalancerInstances, presentLoadBalancer } from "../present/load-balancer";
import type { Reply } from "../respond";
import { instancesOnce, writeWithoutInstances } from "../write";
import { commonFields, listReply } from "./list";
import { findIn, visibleRecord } from "./records";

const filterSpec: FilterSpec<LoadBalancerRecord> = {
  fields: {
    ...commonFields<LoadBalancerRecord>(),
    stackId: (lb) => lb.stackId,
    global: (lb) => String(lb.spec.global),
    served: (lb) => String(lb.served),
  },
  labels: (lb) => lb.spec.labels,
};

/** Each item shows its instances' hosts and states; the agents' reports are for GET of one (one read per host). */
export async function listLoadBalancers(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const [records, instances] = await Promise.all([ctx.api.store.list(env.id, "loadBalancer"), ctx.api.store.list(env.id, "instance")]);
  const byLb = lbInstancesById(instances);
  return listReply(ctx, {
    resourceType: "loadBalancer",
    records,
    spec: filterSpec,
    present: (lb) => presentLoadBalancer(lb, ctx.urls, loadBalancerInstances(lb, byLb.get(lb.id) ?? [])),
    createTypes: { loadBalancer: ctx.urls.env(env.id, "loadbalancers") },
  });
}

/** One load balancer, each instance with what its host's agent reports about its HAProxy. */
export async function getLoadBalancer(ctx: AuthedContext): Promise<Reply> {
  const lb = await visibleRecord(ctx, "loadBalancer");
  const instances = lbInstancesById(await ctx.api.store.list(lb.envId, "instance")).get(lb.id) ?? [];
  const hostIds = [...new Set(instances.map((i) => i.hostId))];
  const observed = new Map(await Promise.all(hostIds.map(async (h) => [h, await ctx.api.store.getObserved(lb.envId, h)] as const)));
  const shown = loadBalancerInstances(lb, instances, (i) => observed.get(i.hostId)?.loadBalancers?.[i.id]);
  return { status: 200, body: presentLoadBalancer(lb, ctx.urls, shown) };
}

export async function createLoadBalancer(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const body = await readJsonBody(ctx.req);
  const id = ctx.api.newId("loadBalancer");
  const instances = instancesOnce(ctx.api, env.id);
  // Strict: another load balancer created meanwhile may want the same source port.
  const lb = await writeWithoutInstances(ctx.api, env.id, async (snap) => {
    const input = validateLoadBalancerCreate(body, snap);
    const record: LoadBalancerRecord = {
      id, envId: env.id, stackId: input.stackId, name: input.name, spec: input.spec,
      state: "active", transitioning: "yes", served: false, createdAt: ctx.api.now(), rev: snap.rev,
    };
    assertPortsFree(record, { ...snap, instances: await instances() });
    return { batch: { put: [{ kind: "loadBalancer", record }] }, result: record };
  });
  return { status: 201, body: presentLoadBalancer(lb, ctx.urls, []) };
}

export function updateLoadBalancer(mode: UpdateMode) {
  return async (ctx: AuthedContext): Promise<Reply> => {
    const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
    const body = await readJsonBody(ctx.req);
    const all = instancesOnce(ctx.api, env.id);
    const { lb, instances } = await writeWithoutInstances(ctx.api, env.id, async (snap) => {
      const current = findIn(snap.loadBalancers ?? [], "loadBalancer", ctx.params.id);
      const instances = lbInstancesById(await all()).get(current.id) ?? [];
      if (current.state !== "active") {
        throw new DroverError("Conflict", `load balancer ${current.name} (${current.id}) is ${current.state}; it takes no changes`);
      }
      const spec = validateLoadBalancerUpdate(body, current, snap, mode);
      if (JSON.stringify(spec) === JSON.stringify(current.spec)) return { result: { lb: current, instances } };
      const record: LoadBalancerRecord = { ...current, spec, transitioning: "yes" };
      assertPortsFree(record, { ...snap, instances: await all() });
      return { batch: { put: [{ kind: "loadBalancer" as const, record }] }, result: { lb: record, instances } };
    });
    return { status: 200, body: presentLoadBalancer(lb, ctx.urls, loadBalancerInstances(lb, instances)) };
  };
}

/**
 * Marks the load balancer `removing` (202); the reconciler stops its HAProxy instances and
 * then removes the record. DELETE of one already removing answers the same without a write.
 */
export async function deleteLoadBalancer(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const all = instancesOnce(ctx.api, env.id);
  const { lb, instances } = await writeWithoutInstances(ctx.api, env.id, async (snap) => {
    const current = findIn(snap.loadBalancers ?? [], "loadBalancer", ctx.params.id);
    const instances = lbInstancesById(await all()).get(current.id) ?? [];
    if (current.state !== "active") return { result: { lb: current, instances } };
    const record = removing(current);
    return { batch: { put: [{ kind: "loadBalancer" as const, record }] }, result: { lb: record, instances } };
  });
  return { status: 202, body: presentLoadBalancer(lb, ctx.urls, loadBalancerInstances(lb, instances)) };
}

/** The record as DELETE (or its stack's DELETE) leaves it. */
export function removing(lb: LoadBalancerRecord): LoadBalancerRecord {
  return { ...lb, state: "removing", transitioning: "yes", transitioningMessage: "stopping its HAProxy instances" };
}

/** Refuses (409, nothing written) a spec with a source port taken on every host it could run on. */
export function assertPortsFree(lb: LoadBalancerRecord, snap: EnvSnapshot): void {
  const stackName = snap.stacks.find((s) => s.id === lb.stackId)?.name ?? lb.stackId;
  const collisions = sourcePortCollisions({ id: lb.id, name: lb.name, stackName, spec: lb.spec }, snap.hosts, snap.instances, snap.services);
  if (collisions.length === 0) return;
  const [first] = collisions;
  throw new DroverError("Conflict", first.message, {
    field: first.field,
    detail: {
      hosts: first.hosts,
      ...(collisions.length > 1 ? { errors: collisions.map(({ code, field, message }) => ({ code, field, message })) } : {}),
    },
  });
}

function lbInstancesById(instances: InstanceRecord[]): Map<string, InstanceRecord[]> {
  const out = new Map<string, InstanceRecord[]>();
  for (const i of instances) {
    if (i.kind !== "lb") continue;
    const list = out.get(i.serviceId);
    if (list) list.push(i);
    else out.set(i.serviceId, [i]);
  }
  return out;
}

/**
 * The load balancers whose rules target any of `serviceIds`, with those rules dropped: what a
 * service's (or stack's) removal writes in the same batch, so no rule points at a gone service.
 */
export function rulesWithoutTargets(loadBalancers: LoadBalancerRecord[] | undefined, serviceIds: Set<string>): LoadBalancerRecord[] {
  const out: LoadBalancerRecord[] = [];
  for (const lb of loadBalancers ?? []) {
    const kept = lb.spec.portRules.filter((rule) => !serviceIds.has(rule.targetServiceId));
    if (kept.length !== lb.spec.portRules.length) out.push({ ...lb, spec: { ...lb.spec, portRules: kept } });
  }
  return out;
}

/** Load balancers of a stack being deleted that are not already on their way out: they go `removing` with it. */
export function loadBalancersOfStack(loadBalancers: LoadBalancerRecord[] | undefined, stackId: string): LoadBalancerRecord[] {
  return (loadBalancers ?? []).filter((lb) => lb.stackId === stackId && lb.state === "active");
}

