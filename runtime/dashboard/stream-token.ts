/**
 * Short-lived tokens for the stats websocket, as Rancher handed out for its stats streams:
 * a browser cannot set an Authorization header on a websocket, and an API key must never
 * go into a URL (logs, history, Referer). A token is minted by an authenticated POST, names
 * one environment and expires after `ttlMs`; it is signed (HMAC-SHA256) with a key derived
 * from the admin key, so every server of an installation accepts it and nothing is stored.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "crypto";

export const streamTokenTtlMs = 30_000;

export interface StreamGrant {
  envId: string;
  /** Expiry, ms since the epoch. */
  exp: number;
}

export type TokenCheck = { ok: true; grant: StreamGrant } | { ok: false; reason: "malformed" | "bad signature" | "expired" };

function signingKey(adminKey: string): Buffer {
  return createHash("sha256").update("drover stats stream token\0").update(adminKey).digest();
}

function sign(key: Buffer, payload: string): string {
  return createHmac("sha256", key).update(payload).digest("base64url");
}

export function mintStreamToken(adminKey: string, envId: string, now = Date.now(), ttlMs = streamTokenTtlMs): { token: string; expiresAt: string } {
  const exp = now + ttlMs;
  // The nonce makes every token distinct, so one seen in a log says nothing about the next.
  const payload = Buffer.from(JSON.stringify({ e: envId, x: exp, n: randomBytes(8).toString("hex") })).toString("base64url");
  return { token: `${payload}.${sign(signingKey(adminKey), payload)}`, expiresAt: new Date(exp).toISOString() };
}

export function checkStreamToken(adminKey: string, token: string, now = Date.now()): TokenCheck {
  const m = /^([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return { ok: false, reason: "malformed" };
  const expected = Buffer.from(sign(signingKey(adminKey), m[1]));
  if (!timingSafeEqual(expected, Buffer.from(m[2]))) return { ok: false, reason: "bad signature" };
  let parsed: { e?: unknown; x?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(m[1], "base64url").toString("utf8"));
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (typeof parsed.e !== "string" || typeof parsed.x !== "number") return { ok: false, reason: "malformed" };
  if (parsed.x <= now) return { ok: false, reason: "expired" };
  return { ok: true, grant: { envId: parsed.e, exp: parsed.x } };
}
