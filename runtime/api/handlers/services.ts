/**
 * /v1/environments/:envId/services. Any change to what the containers are made of bumps
 * `specVersion` and starts a rolling upgrade (runtime/reconcile/plan-upgrade.ts) from the
 * last spec that ran in full; scale, global, links, the health check and the upgrade
 * strategy do not. Actions: scale, restart (a rolling restart: a new version of the same
 * spec), deactivate, activate, rollback (back to the upgrade's `fromSpec`), finishupgrade
 * (forget `fromSpec` once upgraded).
 */
import { DroverError } from "../../protocol/errors";
import type { ServiceRecord, ServiceSpec } from "../../protocol/model";
import { visibleEnv } from "../auth";
import { readJsonBody } from "../body";
import type { AuthedContext } from "../context";
import type { FilterSpec } from "../filters";
import { presentService } from "../present/service";
import type { Reply } from "../respond";
import { actionName, validateNoInput, validateScaleInput } from "../../protocol/validate/actions";
import { specNeedsNewContainers, validateServiceCreate, validateServiceUpdate } from "../../protocol/validate/service";
import type { UpdateMode } from "../../protocol/validate/stack";
import { createInEnv, hostsAndInstancesOnce, updateInEnv, writeRefs } from "../write";
import type { EnvSnapshot, WriteBatch } from "../../store/store";
import { dryRunPlacement } from "../../reconcile/dry-run";
import { commonFields, listReply } from "./list";
import { rulesWithoutTargets } from "./load-balancers";
import { findIn, visibleRecord } from "./records";
import { startUpgrade } from "../../reconcile/plan-upgrade";
import { secretContext } from "../../protocol/secret-contexts";
import { type DataKey, seal } from "../../protocol/seal";

const filterSpec: FilterSpec<ServiceRecord> = {
  fields: {
    ...commonFields<ServiceRecord>(),
    stackId: (s) => s.stackId,
    image: (s) => s.spec.image,
    global: (s) => String(s.spec.global),
    healthState: (s) => s.healthState,
  },
  labels: (s) => s.spec.labels,
};

export async function listServices(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const records = await ctx.api.store.list(env.id, "service");
  // Instances only show in a listing as an upgrade's count per version: read (every instance
  // of the environment, 25,000 in bench scale, at each poll) only when some service upgrades.
  const instances = records.some((s) => s.upgrade) ? await ctx.api.store.list(env.id, "instance") : undefined;
  return listReply(ctx, {
    resourceType: "service",
    records,
    spec: filterSpec,
    present: (s) => presentService(s, ctx.urls, instances),
    createTypes: { service: ctx.urls.env(env.id, "services") },
  });
}

export async function getService(ctx: AuthedContext): Promise<Reply> {
  const service = await visibleRecord(ctx, "service");
  const instances = service.upgrade ? await ctx.api.store.list(service.envId, "instance") : undefined;
  return { status: 200, body: presentService(service, ctx.urls, instances) };
}

export async function createService(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const body = await readJsonBody(ctx.req);
  const id = ctx.api.newId("service");
  const envKey = await ctx.api.keyring.envKey(env.id);
  const service = await createInEnv(ctx.api, env.id, (snap) => {
    const input = validateServiceCreate(body, snap);
    sealGivenSecrets(body, input.spec, envKey, id);
    const record: ServiceRecord = {
      id, envId: env.id, stackId: input.stackId, name: input.name, spec: input.spec,
      specVersion: 1, state: "active", transitioning: "yes", createdAt: ctx.api.now(), rev: snap.rev,
    };
    return { batch: { put: [{ kind: "service", record }] }, result: record };
  });
  return { status: 201, body: presentService(service, ctx.urls) };
}

export function updateService(mode: UpdateMode) {
  return async (ctx: AuthedContext): Promise<Reply> => {
    const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
    const body = await readJsonBody(ctx.req);
    const envKey = await ctx.api.keyring.envKey(env.id);
    const placement = hostsAndInstancesOnce(ctx.api, env.id);
    const service = await updateInEnv(ctx.api, env.id, async (snap) => {
      const current = liveService(snap.services, ctx.params.id);
      const spec = validateServiceUpdate(body, current, snap, mode);
      sealGivenSecrets(body, spec, envKey, current.id);
      if (placementChanges(current, spec)) assertPlaceable({ ...snap, ...await placement() }, current, spec);
      return withSpec(current, spec, ctx.api.now());
    });
    return { status: 200, body: presentService(service, ctx.urls) };
  };
}

export async function deleteService(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  // Strict: a load balancer created meanwhile with a rule to it must lose its rule too.
  const service = await writeRefs(ctx.api, env.id, (snap) => {
    const current = findIn(snap.services, "service", ctx.params.id);
    if (current.state === "removing" || current.state === "removed") return { result: current };
    const plan = changed({ ...current, state: "removing" });
    // Load balancer rules that target it go in the same write (Rancher drops them too).
    for (const lb of rulesWithoutTargets(snap.loadBalancers, new Set([current.id]))) plan.batch.put.push({ kind: "loadBalancer", record: lb });
    return plan;
  });
  return { status: 202, body: presentService(service, ctx.urls) };
}

const ACTIONS = ["scale", "restart", "deactivate", "activate", "rollback", "finishupgrade"];

export async function serviceAction(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const action = actionName(ctx.query, ACTIONS);
  const body = await readJsonBody(ctx.req);
  const scale = action === "scale" ? validateScaleInput(body) : (validateNoInput(body), undefined);
  const placement = hostsAndInstancesOnce(ctx.api, env.id);
  const service = await updateInEnv(ctx.api, env.id, async (snap) => {
    const current = liveService(snap.services, ctx.params.id);
    switch (action) {
      case "scale": {
        const spec = { ...current.spec, scale: scale! };
        if (placementChanges(current, spec)) assertPlaceable({ ...snap, ...await placement() }, current, spec);
        return withSpec(current, spec, ctx.api.now());
      }
      case "restart":
        return changed(newVersion(current, current.spec, ctx.api.now()));
      case "rollback":
        return changed(rollback(current, ctx.api.now()));
      case "finishupgrade":
        return finishUpgrade(current);
      case "deactivate":
        return current.state === "inactive" ? { result: current } : changed({ ...current, state: "inactive" });
      default:
        return current.state === "inactive" ? changed({ ...current, state: "active" }) : { result: current };
    }
  });
  return { status: 202, body: presentService(service, ctx.urls) };
}

/**
 * The secrets the body gave (in the clear) sealed with the environment's key, in place: the
 * record never holds them in the clear. Sealing is deterministic, so an unchanged secret
 * leaves the spec unchanged (no new version, no rolling upgrade).
 */
function sealGivenSecrets(body: unknown, spec: ServiceSpec, envKey: DataKey, serviceId: string): void {
  const given = typeof body === "object" && body !== null && (body as Record<string, unknown>).secrets !== undefined;
  if (!given || !spec.secrets) return;
  spec.secrets = Object.fromEntries(Object.entries(spec.secrets).map(([name, value]) => [name, seal(envKey, secretContext.service(serviceId, name), value)]));
}

/**
 * A change the scheduler could not place is refused before anything running is touched:
 * while the service has instances, a spec (or scale) no host can take answers 422
 * Unplaceable with the scheduler's reason per host, and nothing is written. (A service
 * with nothing placed yet may wait for hosts, as in Rancher: nothing runs to lose.)
 */
export function assertPlaceable(snap: EnvSnapshot, current: ServiceRecord, spec: ServiceSpec): void {
  if (!placementChanges(current, spec)) return;
  if (!snap.instances.some((i) => i.serviceId === current.id && i.kind !== "lb")) return;
  const stack = snap.stacks.find((s) => s.id === current.stackId);
  if (!stack) return;
  const dry = dryRunPlacement(snap.hosts, snap.instances, current, spec, stack, snap.rev);
  if (dry.ok && !(spec.global && dry.placements.length === 0)) return;
  const message = dry.unplaceable?.message ?? `no host takes ${stack.name}/${current.name}: ${JSON.stringify(dry.skipped ?? {})}`;
  throw new DroverError("Unplaceable", `${message}; nothing was changed`, {
    field: scheduleField(current.spec, spec),
    detail: { reasons: dry.unplaceable?.reasons ?? dry.skipped ?? {}, placed: dry.placements.length },
  });
}

/** Whether a change asks the scheduler for new placements: only then does assertPlaceable look at instances. */
export function placementChanges(current: ServiceRecord, spec: ServiceSpec): boolean {
  return specNeedsNewContainers(current.spec, spec) || spec.scale > current.spec.scale || spec.global !== current.spec.global;
}

/** The input most likely at fault, for the error's `fieldName`. */
function scheduleField(before: ServiceSpec, after: ServiceSpec): string {
  if (JSON.stringify(before.labels) !== JSON.stringify(after.labels)) return "labels";
  if (JSON.stringify(before.ports) !== JSON.stringify(after.ports)) return "ports";
  if (after.scale > before.scale) return "scale";
  return "spec";
}

/** A service that can still be changed (404 when missing, 409 when being removed). */
function liveService(services: ServiceRecord[], id: string): ServiceRecord {
  const current = findIn(services, "service", id);
  if (current.state === "removing" || current.state === "removed") {
    throw new DroverError("Conflict", `service ${id} is ${current.state}`);
  }
  return current;
}

/** The plan for a new spec: nothing when unchanged, a new version (a rolling upgrade) when containers must change. */
export function withSpec(current: ServiceRecord, spec: ServiceSpec, now: string) {
  if (JSON.stringify(spec) === JSON.stringify(current.spec)) return { result: current };
  if (!specNeedsNewContainers(current.spec, spec)) return changed({ ...current, spec });
  return changed(newVersion(current, spec, now));
}

/** `spec` as a new version, rolled out from the last spec that ran in full. */
function newVersion(current: ServiceRecord, spec: ServiceSpec, now: string): ServiceRecord {
  const specVersion = Math.max(current.maxSpecVersion ?? current.specVersion, current.specVersion) + 1;
  return { ...current, spec, specVersion, maxSpecVersion: specVersion, upgrade: startUpgrade(current, specVersion, now) };
}

/** Rancher's rollback: back to the upgrade's `fromSpec`, rolled out the same way. */
function rollback(current: ServiceRecord, now: string): ServiceRecord {
  const upgrade = current.upgrade;
  if (!upgrade || upgrade.state === "rolled-back" || (upgrade.state === "rolling-back" && upgrade.toVersion === current.specVersion)) {
    throw new DroverError("Conflict", `service ${current.name} has no upgrade to roll back${upgrade ? ` (it is ${upgrade.state})` : ""}`);
  }
  return {
    ...current,
    spec: upgrade.fromSpec,
    specVersion: upgrade.fromVersion,
    maxSpecVersion: Math.max(current.maxSpecVersion ?? current.specVersion, current.specVersion),
    upgrade: { state: "rolling-back", fromSpec: upgrade.fromSpec, fromVersion: upgrade.fromVersion, toVersion: upgrade.fromVersion, startedAt: now, reason: "rollback requested" },
  };
}

/** Rancher's finishupgrade: the old spec is forgotten (no rollback any more). */
function finishUpgrade(current: ServiceRecord) {
  if (current.upgrade?.state !== "upgraded" && current.upgrade?.state !== "rolled-back") {
    throw new DroverError("Conflict", `service ${current.name} has no finished upgrade${current.upgrade ? ` (it is ${current.upgrade.state})` : ""}`);
  }
  const next = { ...current };
  delete next.upgrade;
  return { batch: { put: [{ kind: "service" as const, record: next }] }, result: next };
}

/** Any change the reconciler must act on: the service is converging again (Rancher's `transitioning`). */
function changed(next: ServiceRecord) {
  const record: ServiceRecord = { ...next, transitioning: "yes" };
  delete record.transitioningMessage;
  const put: NonNullable<WriteBatch["put"]> = [{ kind: "service", record }];
  return { batch: { put }, result: record };
}
