/**
 * A host's identity: an RSA key pair the agent makes once and keeps in its state dir (the
 * private half never leaves the machine). Every registration carries the public key and a
 * signature over the whole request, so:
 * - the server learns the key at the first registration of a machine id, and a later
 *   registration of that machine id must be signed by the same key: a registration token
 *   alone (or an environment key, which can mint tokens) no longer takes a host over;
 * - `signedAt` must be fresh and newer than the last one accepted for the host, so a
 *   captured registration cannot be replayed.
 * RSA rather than Ed25519 because the same key backs the host's Redis client certificate,
 * made with node-forge, which knows only RSA.
 */
import { createPublicKey, KeyObject, sign, verify } from "crypto";
import { DroverError } from "./errors";
import type { RegisterRequest } from "./agent-protocol";

/**
 * How the server's refusal of a revoked identity key begins (the key of a removed host:
 * keys.ts revokedHostKeys). The agent, seeing it, makes a new key and registers again: the
 * registration token decides whether a machine may join, the revoked key never signs again.
 */
export const REVOKED_KEY_REFUSAL = "identityKey: revoked:";

/** How far a registration's `signedAt` may be from the server's clock. */
export const REGISTRATION_CLOCK_SKEW_MS = 10 * 60_000;

/** JSON with object keys sorted at every level: the same request gives the same text on both sides. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")}}`;
}

/** The bytes a registration's signature covers: every field of the body as sent, but the signature. */
export function registrationSigningText(request: Record<string, unknown>): Buffer {
  const { signature: _signature, ...rest } = request;
  return Buffer.from(`drover-register-v1\n${canonicalJson(rest)}`, "utf8");
}

/** Signs a registration with the host's private key (the agent's side). */
export function signRegistration(request: Omit<RegisterRequest, "signature">, privateKey: KeyObject | string): RegisterRequest {
  const signature = sign("sha256", registrationSigningText(request as unknown as Record<string, unknown>), privateKey).toString("base64");
  return { ...request, signature };
}

/** The public key in a canonical PEM (SPKI), or a DroverError naming `identityKey`. */
export function normalizePublicKey(pem: string): string {
  return parsePublicKey(pem).pem;
}

/** The key parsed once: verifying with the KeyObject spares parsing the PEM again (registration's hot path). */
function parsePublicKey(pem: string): { key: KeyObject; pem: string } {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new DroverError("InvalidField", "identityKey: expected a PEM public key (SPKI)", { field: "identityKey", cause: err });
  }
  if (key.asymmetricKeyType !== "rsa" || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new DroverError("InvalidField", "identityKey: expected an RSA public key of at least 2048 bits", { field: "identityKey" });
  }
  return { key, pem: key.export({ type: "spki", format: "pem" }).toString() };
}

/**
 * Checks the request's signature against its own `identityKey` and the freshness of
 * `signedAt` (within REGISTRATION_CLOCK_SKEW_MS of `now`). `body` is the JSON as received
 * (the signature covers it, not the validated form with its defaults); `request` is that
 * body validated. Returns the normalized key.
 */
export function verifyRegistration(body: unknown, request: RegisterRequest, now: number): string {
  const { key, pem: identityKey } = parsePublicKey(request.identityKey);
  let ok = false;
  try {
    ok = verify("sha256", registrationSigningText(body as Record<string, unknown>), key, Buffer.from(request.signature, "base64"));
  } catch {
    ok = false;
  }
  if (!ok) throw new DroverError("Unauthorized", "signature: the registration is not signed by the private key of its identityKey", { field: "signature" });
  const signedAt = Date.parse(request.signedAt);
  if (!Number.isFinite(signedAt) || Math.abs(signedAt - now) > REGISTRATION_CLOCK_SKEW_MS) {
    throw new DroverError("Unauthorized", `signedAt: ${request.signedAt} is more than ${REGISTRATION_CLOCK_SKEW_MS / 60_000} minutes from the server's clock (${new Date(now).toISOString()}): check the host's clock`, { field: "signedAt" });
  }
  return identityKey;
}
