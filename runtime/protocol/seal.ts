/**
 * Sealing: secrets at rest in Redis are `drs1.<keyId>.<base64url(iv | ciphertext | tag)>`,
 * AES-256-GCM under a 32-byte data key, with a context string (what the secret is: service
 * id and name, certificate id, ...) as associated data, so a sealed value moved to another
 * place does not unseal there.
 *
 * Deterministic on purpose: the IV is an HMAC of the context and the plaintext (the SIV
 * construction), so the same secret in the same place seals to the same text. Records then
 * compare equal when their secrets are unchanged (an unchanged PUT starts no rolling
 * upgrade; a desired document is not rewritten every pass), and an IV repeats only for the
 * same plaintext in the same context, which is what GCM needs. What this reveals is only
 * whether two sealed values in one context hold the same secret.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "crypto";
import { DroverError } from "./errors";

export interface DataKey {
  /** Names the key inside sealed values (letters, digits, `_`, `-`), so a reader knows which key to use. */
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

const PREFIX = "drs1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const derived = new WeakMap<Buffer, { enc: Buffer; iv: Buffer }>();

function subkeys(key: Buffer): { enc: Buffer; iv: Buffer } {
  let d = derived.get(key);
  if (!d) {
    if (key.length !== 32) throw new DroverError("Internal", "a data key must be 32 bytes");
    d = {
      enc: Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), "drover seal v1 encryption", 32)),
      iv: Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), "drover seal v1 iv", 32)),
    };
    derived.set(key, d);
  }
  return d;
}

export function newDataKey(id: string): DataKey {
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new DroverError("Internal", `invalid data key id ${JSON.stringify(id)}`);
  return { id, key: randomBytes(32) };
}

/** Whether `value` is a sealed value (any key). */
export function isSealed(value: unknown): value is string {
  return typeof value === "string" && value.startsWith(`${PREFIX}.`);
}

/** The id of the key a sealed value was sealed with. */
export function sealedKeyId(sealed: string): string {
  return sealed.split(".")[1] ?? "";
}

export function seal(key: DataKey, context: string, plaintext: string): string {
  const { enc, iv: ivKey } = subkeys(key.key);
  const pt = Buffer.from(plaintext, "utf8");
  const ctx = Buffer.from(context, "utf8");
  const iv = createHmac("sha256", ivKey).update(lengthPrefixed(ctx)).update(pt).digest().subarray(0, IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", enc, iv);
  cipher.setAAD(ctx);
  const ct = Buffer.concat([cipher.update(pt), cipher.final()]);
  return `${PREFIX}.${key.id}.${Buffer.concat([iv, ct, cipher.getAuthTag()]).toString("base64url")}`;
}

/**
 * The plaintext of a sealed value; throws DroverError Internal when it was sealed with
 * another key or in another context, or was altered (nothing of the secret in the message).
 */
export function unseal(key: DataKey, context: string, sealed: string): string {
  const parts = sealed.split(".");
  if (parts.length !== 3 || parts[0] !== PREFIX) throw new DroverError("Internal", `not a sealed value (for ${context})`);
  if (parts[1] !== key.id) throw new DroverError("Internal", `sealed with key ${parts[1]}, not ${key.id} (for ${context})`);
  const raw = Buffer.from(parts[2], "base64url");
  if (raw.length < IV_BYTES + TAG_BYTES) throw new DroverError("Internal", `sealed value too short (for ${context})`);
  const { enc } = subkeys(key.key);
  const decipher = createDecipheriv("aes-256-gcm", enc, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(context, "utf8"));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString("utf8");
  } catch {
    throw new DroverError("Internal", `a sealed value does not open with key ${key.id} (for ${context}): altered, or sealed elsewhere`);
  }
}

function lengthPrefixed(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}
