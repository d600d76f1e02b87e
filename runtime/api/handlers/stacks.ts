/**
 * /v1/environments/:envId/stacks. DELETE marks the stack, its services and its load balancers
 * `removing`; the reconciler removes their instances and then the records.
 */
import type { StackRecord } from "../../protocol/model";
import type { WriteBatch } from "../../store/store";
import { visibleEnv } from "../auth";
import { readJsonBody } from "../body";
import type { AuthedContext } from "../context";
import type { FilterSpec } from "../filters";
import { presentStack } from "../present/stack";
import type { Reply } from "../respond";
import { UpdateMode, validateStackCreate, validateStackUpdate } from "../../protocol/validate/stack";
import { createInEnv, updateInEnv, writeRefs } from "../write";
import { commonFields, listReply } from "./list";
import { loadBalancersOfStack, removing, rulesWithoutTargets } from "./load-balancers";
import { findIn, visibleRecord } from "./records";
import { IMPORT_BODY_BYTES, importStack, isComposeBody } from "./stack-compose";
import { actionName } from "../../protocol/validate/actions";

const filterSpec: FilterSpec<StackRecord> = {
  fields: { ...commonFields<StackRecord>(), description: (s) => s.description, stackWideDiscovery: (s) => String(s.stackWideDiscovery === true) },
};

export async function listStacks(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  return listReply(ctx, {
    resourceType: "stack",
    records: await ctx.api.store.list(env.id, "stack"),
    spec: filterSpec,
    present: (s) => presentStack(s, ctx.urls),
    createTypes: { stack: ctx.urls.env(env.id, "stacks") },
  });
}

export async function getStack(ctx: AuthedContext): Promise<Reply> {
  return { status: 200, body: presentStack(await visibleRecord(ctx, "stack"), ctx.urls) };
}

export async function createStack(ctx: AuthedContext): Promise<Reply> {
  if (ctx.query.get("action") !== null) {
    actionName(ctx.query, ["import"]);
    return importStack(false)(ctx);
  }
  const body = await readJsonBody(ctx.req, IMPORT_BODY_BYTES);
  if (isComposeBody(body)) return importStack(true, body)(ctx);
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const id = ctx.api.newId("stack");
  const stack = await createInEnv(ctx.api, env.id, (snap) => {
    const input = validateStackCreate(body, snap.stacks);
    const record: StackRecord = { id, envId: env.id, ...input, state: "active", createdAt: ctx.api.now(), rev: snap.rev };
    return { batch: { put: [{ kind: "stack", record }] }, result: record };
  });
  return { status: 201, body: presentStack(stack, ctx.urls) };
}

export function updateStack(mode: UpdateMode) {
  return async (ctx: AuthedContext): Promise<Reply> => {
    const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
    const body = await readJsonBody(ctx.req);
    const stack = await updateInEnv(ctx.api, env.id, (snap) => {
      const current = findIn(snap.stacks, "stack", ctx.params.id);
      const next = validateStackUpdate(body, current, mode);
      if (JSON.stringify(next) === JSON.stringify(current)) return { result: current };
      return { batch: { put: [{ kind: "stack", record: next }] }, result: next };
    });
    return { status: 200, body: presentStack(stack, ctx.urls) };
  };
}

export async function deleteStack(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  // Strict: a service created in the stack meanwhile must go `removing` with it.
  const stack = await writeRefs(ctx.api, env.id, (snap) => {
    const current = findIn(snap.stacks, "stack", ctx.params.id);
    const services = snap.services.filter((s) => s.stackId === current.id && s.state !== "removing" && s.state !== "removed");
    const balancers = loadBalancersOfStack(snap.loadBalancers, current.id);
    if (current.state !== "active" && services.length === 0 && balancers.length === 0) return { result: current };
    const next: StackRecord = { ...current, state: "removing" };
    const put: NonNullable<WriteBatch["put"]> = [{ kind: "stack", record: next }];
    for (const s of services) put.push({ kind: "service", record: { ...s, state: "removing", transitioning: "yes" } });
    // The stack's load balancers go `removing` with it (the reconciler stops their HAProxy
    // instances, then removes them); other stacks' rules that target its services are dropped.
    for (const lb of balancers) put.push({ kind: "loadBalancer", record: removing(lb) });
    const others = (snap.loadBalancers ?? []).filter((lb) => lb.stackId !== current.id);
    for (const lb of rulesWithoutTargets(others, new Set(services.map((s) => s.id)))) put.push({ kind: "loadBalancer", record: lb });
    return { batch: { put }, result: next };
  });
  return { status: 202, body: presentStack(stack, ctx.urls) };
}
