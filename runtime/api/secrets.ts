/**
 * Secrets the API hands out once (API keys, registration tokens, agent passwords) and the
 * hashes it keeps instead. Only sha256 hashes reach the store.
 */
import { createHash, randomBytes, timingSafeEqual } from "crypto";

export function sha256Hex(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** 256 random bits, URL-safe, with a prefix that tells what the secret is for. */
export function newSecret(prefix: "drk" | "drt" | "drp"): string {
  return `${prefix}_${randomBytes(32).toString("base64url")}`;
}

/** Constant-time equality of two secrets (hashing first makes the lengths equal). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}
