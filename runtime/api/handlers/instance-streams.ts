/**
 * POST /v1/environments/:envId/instances/:id?action=logs|execute: a token for one logs or
 * exec stream of this instance (Rancher answers `execute` with a `hostAccess` the same way).
 * The body holds the stream's parameters (validate/stream.ts) and optionally `ttl` (seconds,
 * at most 60). The answer's `url` is the websocket to open on this server, with the token in
 * its `Authorization: Bearer` header (not in the URL, which proxies and access logs keep).
 */
import { DroverError } from "../../protocol/errors";
import { mintActionFor } from "../../protocol/stream-protocol";
import { actionName } from "../../protocol/validate/actions";
import { validateExecInput, validateLogsInput } from "../../protocol/validate/stream";
import { RedisStore } from "../../store/redis-store";
import { StreamTokens, type StreamGrant } from "../../streams/stream-tokens";
import { readJsonBody } from "../body";
import type { AuthedContext } from "../context";
import type { Reply } from "../respond";
import { visibleRecord } from "./records";

export async function instanceAction(ctx: AuthedContext): Promise<Reply> {
  // Another environment's instance is a 404 whatever the action or body says.
  const instance = await visibleRecord(ctx, "instance");
  const action = actionName(ctx.query, [mintActionFor.logs, mintActionFor.exec]);
  const body = await readJsonBody(ctx.req);
  const request = action === "logs" ? validateLogsInput(body) : validateExecInput(body);
  const host = await ctx.api.store.get(instance.envId, "host", instance.hostId);
  if (!host || host.state === "removed" || host.state === "removing") {
    throw new DroverError("Conflict", `instance ${instance.id}: its host ${instance.hostId} is gone`);
  }
  if (host.state !== "active" && host.state !== "inactive") {
    throw new DroverError("Unavailable", `instance ${instance.id}: its host ${host.name} is ${host.state}; try again once it is active (drover hosts)`);
  }
  const store = ctx.api.store;
  if (!(store instanceof RedisStore)) throw new DroverError("Internal", "streams need the Redis store");
  const expiresAt = Date.parse(ctx.api.now()) + request.ttlSeconds * 1000;
  const common = { envId: instance.envId, instanceId: instance.id, hostId: instance.hostId, keyId: ctx.principal.keyId, expiresAt };
  const grant = (action === "logs" ? { ...common, action: "logs", params: request.params } : { ...common, action: "exec", params: request.params }) as StreamGrant;
  const token = await new StreamTokens(store.redis, store.keys).mint(grant);
  const wsBase = ctx.urls.base.replace(/^http/, "ws");
  const url = `${wsBase}/v1/streams/${grant.action}/${encodeURIComponent(instance.id)}`;
  return {
    status: 201,
    body: {
      type: "hostAccess", action: grant.action, instanceId: instance.id, hostId: instance.hostId,
      token, url, expiresAt: new Date(expiresAt).toISOString(),
      links: { instance: ctx.urls.env(instance.envId, "instances", instance.id) },
    },
  };
}
