/** /v1/environments: the admin creates, lists and tears down; an env key sees its own. */
import { DroverError } from "../../protocol/errors";
import type { EnvironmentRecord } from "../../protocol/model";
import { requireAdmin, visibleEnv } from "../auth";
import { readJsonBody } from "../body";
import type { AuthedContext } from "../context";
import type { FilterSpec } from "../filters";
import { presentEnvironment } from "../present/environment";
import { registrationCommand } from "../present/token";
import type { Reply } from "../respond";
import { newSecret, sha256Hex } from "../secrets";
import { actionName, validateNoInput } from "../../protocol/validate/actions";
import { validateEnvironmentCreate } from "../../protocol/validate/environment";
import { newIpsecSpec } from "../../reconcile/ipsec-key";
import { commonFields, listReply } from "./list";

const filterSpec: FilterSpec<EnvironmentRecord> = { fields: commonFields<EnvironmentRecord>() };

export async function listEnvironments(ctx: AuthedContext): Promise<Reply> {
  const { principal, api } = ctx;
  const envs = principal.kind === "admin"
    ? await api.store.listEnvironments()
    : [await api.store.getEnvironment(principal.envId)].filter((e): e is EnvironmentRecord => e !== undefined);
  return listReply(ctx, {
    resourceType: "environment",
    records: envs,
    spec: filterSpec,
    present: (env) => presentEnvironment(env, ctx.urls, principal.kind === "admin"),
    createTypes: principal.kind === "admin" ? { environment: ctx.urls.to(["environments"]) } : {},
  });
}

/** 201 with the environment's first API key and registration token: the only time they are shown. */
export async function createEnvironment(ctx: AuthedContext): Promise<Reply> {
  requireAdmin(ctx.principal, "creating an environment");
  const input = validateEnvironmentCreate(await readJsonBody(ctx.req));
  const { store } = ctx.api;
  if ((await store.listEnvironments()).some((e) => e.name === input.name)) {
    throw new DroverError("Conflict", `name: an environment named ${input.name} already exists`, { field: "name" });
  }
  const apiKey = newSecret("drk");
  const registrationToken = newSecret("drt");
  const env = await store.createEnvironment({
    id: ctx.api.newId("environment"),
    name: input.name,
    ...(input.description !== undefined ? { description: input.description } : {}),
    network: input.network,
    state: "active",
    createdAt: ctx.api.now(),
  }, sha256Hex(apiKey), sha256Hex(registrationToken));
  ctx.api.nudge(env.id);
  const tls = ctx.api.tls;
  return {
    status: 201,
    body: {
      ...presentEnvironment(env, ctx.urls, true), apiKey, registrationToken,
      // What agents pin, and their command line (the token inside: shown only here).
      ...(tls ? { caFingerprint: tls.caFingerprint } : {}),
      registrationCommand: registrationCommand(ctx.urls.base, registrationToken, tls?.caFingerprint),
    },
  };
}

export async function getEnvironment(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  return { status: 200, body: presentEnvironment(env, ctx.urls, ctx.principal.kind === "admin") };
}

/**
 * `?action=teardown`: records `removing`; the reconciler has the agents clean up, then purges.
 * `?action=rotateipseckey`: a new pre-shared key; the reconciler hands it to every host, whose
 * charon loads it without closing established tunnels.
 */
export async function environmentAction(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const action = actionName(ctx.query, ["teardown", "rotateipseckey"]);
  if (action === "rotateipseckey") return rotateIpsecKey(ctx, env);
  requireAdmin(ctx.principal, "tearing down an environment");
  validateNoInput(await readJsonBody(ctx.req));
  let current = env;
  if (env.state === "active") {
    const updated = await ctx.api.store.setEnvironmentState(env.id, "removing");
    if (!updated) throw new DroverError("NotFound", `no environment ${env.id}`);
    current = updated;
    ctx.api.nudge(env.id);
  }
  return { status: 202, body: presentEnvironment(current, ctx.urls, true) };
}

async function rotateIpsecKey(ctx: AuthedContext, env: EnvironmentRecord): Promise<Reply> {
  validateNoInput(await readJsonBody(ctx.req));
  if (env.state !== "active") throw new DroverError("Conflict", `environment ${env.id} is ${env.state}: its key is not rotated`, { field: "state" });
  const spec = newIpsecSpec();
  await ctx.api.store.setIpsec(env.id, spec);
  ctx.api.nudge(env.id);
  // The key itself is never shown; its id lets a caller follow the rollout in the hosts' network status.
  return { status: 202, body: { ...presentEnvironment(env, ctx.urls, true), ipsecKeyId: spec.pskId } };
}
