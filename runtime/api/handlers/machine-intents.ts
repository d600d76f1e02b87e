/**
 * /v1/environments/:envId/machineintents: cloud machines a provider is making (see
 * runtime/store/machine-intents.ts for why).
 *
 * - PUT    .../machineintents/:name  {driver, tag, sealed} → 204 (before the first cloud call)
 * - GET    .../machineintents        the collection; GET .../machineintents/:name one
 * - DELETE .../machineintents/:name  → 204 (the host is in the state, or its machine was swept)
 *
 * `sealed` is the provider's (sealed with a key derived from the environment's API key): the
 * server stores and returns it as is and cannot read it.
 */
import { DroverError } from "../../protocol/errors";
import { Problems } from "../../protocol/validate/problems";
import { ObjectReader } from "../../protocol/validate/reader";
import { HOSTNAME } from "../../protocol/validate/rules";
import type { StringRule } from "../../protocol/validate/reader";
import { RedisStore } from "../../store/redis-store";
import { deleteMachineIntent, listMachineIntents, putMachineIntent, type MachineIntent } from "../../store/machine-intents";
import { visibleEnv } from "../auth";
import { readJsonBody } from "../body";
import type { AuthedContext } from "../context";
import type { FilterSpec } from "../filters";
import type { ResourceJson } from "../present/resource";
import type { Reply } from "../respond";
import type { Urls } from "../urls";
import { listReply } from "./list";

const DRIVER: StringRule = { expected: "a driver name (lower-case letters, digits, '-')", pattern: /^[a-z0-9-]+$/, maxLength: 40 };
const TAG: StringRule = { expected: "a tag of at most 255 characters (letters, digits, ':', '-', '_')", pattern: /^[A-Za-z0-9:_-]+$/, maxLength: 255 };
const SEALED: StringRule = { expected: "a sealed value (drs1.…) of at most 8192 characters", pattern: /^drs1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, maxLength: 8192 };

type IntentInfo = MachineIntent & { id: string; envId: string };

const filterSpec: FilterSpec<IntentInfo> = {
  fields: { id: (i) => i.id, name: (i) => i.name, driver: (i) => i.driver, createdAt: (i) => i.createdAt },
};

function presentIntent(i: IntentInfo, urls: Urls): ResourceJson {
  return {
    id: i.id, type: "machineIntent", envId: i.envId, name: i.name, driver: i.driver, tag: i.tag, sealed: i.sealed, createdAt: i.createdAt,
    links: { self: urls.env(i.envId, "machineintents", i.id), environment: urls.env(i.envId), collection: urls.env(i.envId, "machineintents") },
    actions: {},
  };
}

function redisOf(ctx: AuthedContext): RedisStore {
  const store = ctx.api.store;
  if (!(store instanceof RedisStore)) throw new DroverError("Internal", "machine intents need the Redis store");
  return store;
}

function hostName(ctx: AuthedContext): string {
  const p = new Problems();
  const name = new ObjectReader(p, { name: ctx.params.name }, "", ["name"]).string("name", HOSTNAME);
  p.throwIfAny();
  return name!;
}

async function infos(ctx: AuthedContext): Promise<{ envId: string; list: IntentInfo[] }> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const store = redisOf(ctx);
  const list = (await listMachineIntents(store.redis, store.keys, env.id)).map((i) => ({ ...i, id: i.name, envId: env.id }));
  return { envId: env.id, list };
}

export async function listIntents(ctx: AuthedContext): Promise<Reply> {
  const { list } = await infos(ctx);
  return listReply(ctx, { resourceType: "machineIntent", records: list, spec: filterSpec, present: (i) => presentIntent(i, ctx.urls) });
}

export async function getIntent(ctx: AuthedContext): Promise<Reply> {
  const { list } = await infos(ctx);
  const found = list.find((i) => i.id === ctx.params.name);
  if (!found) throw new DroverError("NotFound", `machine intent ${ctx.params.name} not found`);
  return { status: 200, body: presentIntent(found, ctx.urls) };
}

export async function putIntent(ctx: AuthedContext): Promise<Reply | undefined> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const name = hostName(ctx);
  const p = new Problems();
  const body = new ObjectReader(p, await readJsonBody(ctx.req), "", ["driver", "tag", "sealed"]);
  const driver = body.string("driver", { ...DRIVER, required: true });
  const tag = body.string("tag", { ...TAG, required: true });
  const sealed = body.string("sealed", { ...SEALED, required: true });
  p.throwIfAny();
  const store = redisOf(ctx);
  await putMachineIntent(store.redis, store.keys, env.id, { name, driver: driver!, tag: tag!, sealed: sealed!, createdAt: ctx.api.now() });
  ctx.res.writeHead(204, { "cache-control": "no-store" });
  ctx.res.end();
  return undefined;
}

export async function deleteIntent(ctx: AuthedContext): Promise<Reply | undefined> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const store = redisOf(ctx);
  if (!(await deleteMachineIntent(store.redis, store.keys, env.id, ctx.params.name))) {
    throw new DroverError("NotFound", `machine intent ${ctx.params.name} not found`);
  }
  ctx.res.writeHead(204);
  ctx.res.end();
  return undefined;
}
