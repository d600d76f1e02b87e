/**
 * Who is calling. `Authorization: Bearer <key>` with either the admin key (sees everything)
 * or an environment's API key (sees only that environment). Access to another
 * environment is reported as 404, never 403, so a key cannot even learn that it exists.
 */
import type { IncomingMessage } from "http";
import { DroverError } from "../protocol/errors";
import type { EnvironmentRecord } from "../protocol/model";
import type { ApiContext } from "./options";
import { secretsEqual, sha256Hex } from "./secrets";

/** `keyId` names the key that authenticated (its hash, or "admin"), never the key itself: for per-key limits. */
export type Principal = { kind: "admin"; keyId: string } | { kind: "env"; envId: string; keyId: string };

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}

export async function authenticate(api: ApiContext, req: IncomingMessage): Promise<Principal> {
  const key = bearerToken(req);
  if (key === undefined) throw new DroverError("Unauthorized", "missing API key: send Authorization: Bearer <key>");
  if (secretsEqual(key, api.adminKey)) return { kind: "admin", keyId: "admin" };
  // The lookup is by hash, so its timing tells nothing about the secret.
  const keyHash = sha256Hex(key);
  const envId = await api.store.envIdForApiKey(keyHash);
  if (envId === undefined) throw new DroverError("Unauthorized", "unknown API key");
  return { kind: "env", envId, keyId: keyHash };
}

export function requireAdmin(principal: Principal, what: string): void {
  if (principal.kind !== "admin") throw new DroverError("Forbidden", `${what} needs the admin key`);
}

export function canSeeEnv(principal: Principal, envId: string): boolean {
  return principal.kind === "admin" || principal.envId === envId;
}

/** The environment a request addresses, or 404 when it is missing or not the caller's. */
export async function visibleEnv(api: ApiContext, principal: Principal, envId: string): Promise<EnvironmentRecord> {
  const env = canSeeEnv(principal, envId) ? await api.store.getEnvironment(envId) : undefined;
  if (!env) throw new DroverError("NotFound", `no environment ${envId}`);
  return env;
}
