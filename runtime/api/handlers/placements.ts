/**
 * POST /v1/environments/:envId/placements: a dry run (Nomad's `job plan`). The body is a
 * service as POST /services takes it, or with `serviceId` a service's new spec as PUT takes
 * it; the answer says where its instances would go, or why they cannot, and nothing is
 * written. `pulumi preview` asks it for every Service whose inputs changed.
 */
import { DroverError } from "../../protocol/errors";
import { validateServiceCreate, validateServiceUpdate } from "../../protocol/validate/service";
import { isPlainObject } from "../../protocol/validate/reader";
import { dryRunPlacement } from "../../reconcile/dry-run";
import { visibleEnv } from "../auth";
import { readJsonBody } from "../body";
import type { AuthedContext } from "../context";
import type { Reply } from "../respond";
import { findIn } from "./records";

export async function planPlacement(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const raw = await readJsonBody(ctx.req);
  if (!isPlainObject(raw)) throw new DroverError("InvalidField", "body: expected a JSON object (a service as POST /services takes it, or serviceId and a spec)", { field: "body" });
  const { serviceId, ...body } = raw;
  const snap = await ctx.api.store.snapshot(env.id);
  let target: { id: string; name: string; stackId: string; spec: ReturnType<typeof validateServiceCreate>["spec"] };
  if (serviceId !== undefined) {
    if (typeof serviceId !== "string") throw new DroverError("InvalidField", `serviceId: expected a service id, got ${JSON.stringify(serviceId)}`, { field: "serviceId" });
    const current = findIn(snap.services, "service", serviceId);
    target = { id: current.id, name: current.name, stackId: current.stackId, spec: validateServiceUpdate(body, current, snap, "replace") };
  } else {
    const created = validateServiceCreate(body, snap);
    target = { id: "(new)", name: created.name, stackId: created.stackId, spec: created.spec };
  }
  const stack = findIn(snap.stacks, "stack", target.stackId);
  const dry = dryRunPlacement(snap.hosts, snap.instances, target, target.spec, stack, snap.rev);
  return {
    status: 200,
    body: {
      type: "placement",
      ok: dry.ok,
      ...(serviceId !== undefined ? { serviceId } : {}),
      instances: dry.placements,
      ...(dry.unplaceable ? { message: dry.unplaceable.message, reasons: dry.unplaceable.reasons } : {}),
      ...(dry.skipped ? { skipped: dry.skipped } : {}),
    },
  };
}
