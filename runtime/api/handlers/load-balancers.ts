/**
 * /v1/environments/:envId/loadbalancers. Load balancers are accepted, validated and stored;
 * agents do not run HAProxy for them yet, so records are `active`, `transitioning: "no"`,
 * `served: false`, and DELETE removes the record at once (nothing runs to tear down).
 * Deleting a service a load balancer targets is allowed and drops the rules that target it,
 * as Rancher's removeFromLoadBalancerServices did (see rulesWithoutTargets).
 */
import type { LoadBalancerRecord } from "../../protocol/model";
import { visibleEnv } from "../auth";
import { readJsonBody } from "../body";
import type { AuthedContext } from "../context";
import type { FilterSpec } from "../filters";
import { presentLoadBalancer } from "../present/load-balancer";
import type { Reply } from "../respond";
import { validateLoadBalancerCreate, validateLoadBalancerUpdate } from "../../protocol/validate/load-balancer";
import type { UpdateMode } from "../../protocol/validate/stack";
import { writeEnv } from "../write";
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

export async function listLoadBalancers(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  return listReply(ctx, {
    resourceType: "loadBalancer",
    records: await ctx.api.store.list(env.id, "loadBalancer"),
    spec: filterSpec,
    present: (lb) => presentLoadBalancer(lb, ctx.urls),
    createTypes: { loadBalancer: ctx.urls.env(env.id, "loadbalancers") },
  });
}

export async function getLoadBalancer(ctx: AuthedContext): Promise<Reply> {
  return { status: 200, body: presentLoadBalancer(await visibleRecord(ctx, "loadBalancer"), ctx.urls) };
}

export async function createLoadBalancer(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const body = await readJsonBody(ctx.req);
  const id = ctx.api.newId("loadBalancer");
  const lb = await writeEnv(ctx.api, env.id, (snap) => {
    const input = validateLoadBalancerCreate(body, snap);
    const record: LoadBalancerRecord = {
      id, envId: env.id, stackId: input.stackId, name: input.name, spec: input.spec,
      state: "active", transitioning: "no", served: false, createdAt: ctx.api.now(), rev: snap.rev,
    };
    return { batch: { put: [{ kind: "loadBalancer", record }] }, result: record };
  });
  return { status: 201, body: presentLoadBalancer(lb, ctx.urls) };
}

export function updateLoadBalancer(mode: UpdateMode) {
  return async (ctx: AuthedContext): Promise<Reply> => {
    const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
    const body = await readJsonBody(ctx.req);
    const lb = await writeEnv(ctx.api, env.id, (snap) => {
      const current = findIn(snap.loadBalancers ?? [], "loadBalancer", ctx.params.id);
      const spec = validateLoadBalancerUpdate(body, current, snap, mode);
      if (JSON.stringify(spec) === JSON.stringify(current.spec)) return { result: current };
      const record: LoadBalancerRecord = { ...current, spec };
      return { batch: { put: [{ kind: "loadBalancer" as const, record }] }, result: record };
    });
    return { status: 200, body: presentLoadBalancer(lb, ctx.urls) };
  };
}

/** Removes the record at once and answers 200 with it in state `removed`; a second DELETE is a 404. */
export async function deleteLoadBalancer(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const lb = await writeEnv(ctx.api, env.id, (snap) => {
    const current = findIn(snap.loadBalancers ?? [], "loadBalancer", ctx.params.id);
    const removed: LoadBalancerRecord = { ...current, state: "removed" };
    return { batch: { remove: [{ kind: "loadBalancer" as const, id: current.id }] }, result: removed };
  });
  return { status: 200, body: presentLoadBalancer(lb, ctx.urls) };
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

/** Load balancers of a stack being deleted: removed with it. */
export function loadBalancersOfStack(loadBalancers: LoadBalancerRecord[] | undefined, stackId: string): LoadBalancerRecord[] {
  return (loadBalancers ?? []).filter((lb) => lb.stackId === stackId);
}

