/**
 * POST /v1/environments/:envId/statstokens → 201 {token, expiresAt, url}: a token for one
 * stats websocket of the environment (runtime/dashboard/stream-token.ts). The caller's key
 * must see the environment (404 otherwise, like every route).
 */
import { mintStreamToken } from "../../dashboard/stream-token";
import { visibleEnv } from "../auth";
import type { AuthedContext } from "../context";
import type { Reply } from "../respond";

/** Where the stats websocket listens (runtime/dashboard/stats-socket.ts). */
export const statsSocketPath = "/v1/stats";

export async function createStatsToken(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const { token, expiresAt } = mintStreamToken(ctx.api.adminKey, env.id);
  return { status: 201, body: { type: "statsToken", envId: env.id, token, expiresAt, path: statsSocketPath } };
}
