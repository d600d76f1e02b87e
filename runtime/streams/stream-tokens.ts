/**
 * Stream tokens: what a client gets for one logs or exec stream of one instance. Minted by
 * an environment's key (or the admin key), valid for a short time, taken once. Redis holds
 * only sha256(token) as the key and the grant (no secret), with a TTL, so any server of the
 * installation can take a token another minted.
 */
import { randomBytes } from "crypto";
import type Redis from "ioredis";
import type { Keys } from "../protocol/keys";
import type { ExecParams, LogsParams, StreamAction } from "../protocol/stream-protocol";
import { sha256Hex } from "../api/secrets";

/** How long a token may wait to be used, by default. */
export const STREAM_TOKEN_TTL_MS = 60_000;

export type StreamGrant =
  | { action: "logs"; envId: string; instanceId: string; hostId: string; keyId: string; expiresAt: number; params: LogsParams }
  | { action: "exec"; envId: string; instanceId: string; hostId: string; keyId: string; expiresAt: number; params: ExecParams };

/** Why a token is refused (each answered 401 with its own message). */
export type TokenRefusal = "unknown" | "expired" | "other-instance" | "other-action";

export class StreamTokens {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}

  /** A new token for `grant`; the token is `<envId>.<random>` so the taker knows where to look. */
  async mint(grant: StreamGrant): Promise<string> {
    const token = `${grant.envId}.${randomBytes(24).toString("base64url")}`;
    const ttl = Math.max(1, grant.expiresAt - Date.now());
    await this.redis.set(this.keys.streamToken(grant.envId, sha256Hex(token)), JSON.stringify(grant), "PX", ttl);
    return token;
  }

  /**
   * The grant for `token` if it is for this action on this instance and has not expired.
   * A token is taken (deleted) on its first use, also when refused, so it cannot be tried twice.
   */
  async take(token: string, action: StreamAction, instanceId: string, now: number): Promise<StreamGrant | TokenRefusal> {
    const dot = token.indexOf(".");
    const envId = token.slice(0, dot);
    if (dot <= 0 || !/^[A-Za-z0-9_.-]+$/.test(envId)) return "unknown";
    const raw = await this.redis.getdel(this.keys.streamToken(envId, sha256Hex(token)));
    if (raw === null) return "unknown";
    const grant = JSON.parse(raw) as StreamGrant;
    if (now >= grant.expiresAt) return "expired";
    if (grant.instanceId !== instanceId) return "other-instance";
    if (grant.action !== action) return "other-action";
    return grant;
  }
}
