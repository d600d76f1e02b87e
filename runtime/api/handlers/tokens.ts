/** /v1/environments/:envId/registrationtokens: tokens agents register with (secret shown once). */
import { DroverError } from "../../protocol/errors";
import { visibleEnv } from "../auth";
import { readJsonBody } from "../body";
import type { AuthedContext } from "../context";
import type { FilterSpec } from "../filters";
import { TokenInfo, presentToken, tokenId } from "../present/token";
import type { Reply } from "../respond";
import { newSecret, sha256Hex } from "../secrets";
import { Problems } from "../../protocol/validate/problems";
import { ObjectReader } from "../../protocol/validate/reader";
import { DESCRIPTION } from "../../protocol/validate/rules";
import { assertEnvWritable } from "../write";
import { listReply } from "./list";

const filterSpec: FilterSpec<TokenInfo> = {
  fields: { id: (t) => t.id, description: (t) => t.description, createdAt: (t) => t.createdAt },
};

async function tokenInfos(ctx: AuthedContext): Promise<{ envId: string; infos: TokenInfo[] }> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const tokens = await ctx.api.store.listRegistrationTokens(env.id);
  const infos: TokenInfo[] = tokens.map(({ tokenHash, meta }) => ({
    id: tokenId(tokenHash),
    envId: env.id,
    // The first token is made with the environment and carries no meta of its own.
    createdAt: meta.createdAt ?? env.createdAt,
    ...(meta.description !== undefined ? { description: meta.description } : {}),
  }));
  return { envId: env.id, infos };
}

/** One token by its id (never its secret): what its `self` link answers. */
export async function getToken(ctx: AuthedContext): Promise<Reply> {
  const { infos } = await tokenInfos(ctx);
  const info = infos.find((t) => t.id === ctx.params.id);
  if (!info) throw new DroverError("NotFound", `registration token ${ctx.params.id} not found`);
  return { status: 200, body: presentToken(info, ctx.urls, undefined, ctx.api.tls?.caFingerprint) };
}

export async function listTokens(ctx: AuthedContext): Promise<Reply> {
  const { envId, infos } = await tokenInfos(ctx);
  const env = { id: envId };
  return listReply(ctx, {
    resourceType: "registrationToken",
    records: infos,
    spec: filterSpec,
    present: (t) => presentToken(t, ctx.urls, undefined, ctx.api.tls?.caFingerprint),
    createTypes: { registrationToken: ctx.urls.env(env.id, "registrationtokens") },
  });
}

export async function createToken(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const p = new Problems();
  const description = new ObjectReader(p, await readJsonBody(ctx.req), "", ["description"]).string("description", DESCRIPTION);
  p.throwIfAny();
  assertEnvWritable(env);
  const secret = newSecret("drt");
  const hash = sha256Hex(secret);
  const meta: Record<string, string> = { createdAt: ctx.api.now(), ...(description !== undefined ? { description } : {}) };
  await ctx.api.store.addRegistrationToken(env.id, hash, meta);
  const info: TokenInfo = { id: tokenId(hash), envId: env.id, createdAt: meta.createdAt, ...(description !== undefined ? { description } : {}) };
  return { status: 201, body: presentToken(info, ctx.urls, secret, ctx.api.tls?.caFingerprint) };
}
