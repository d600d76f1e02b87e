/**
 * Registration bodies signed as an agent signs them (runtime/protocol/host-identity.ts), for
 * tests that call POST /v1/register themselves. One RSA key per test process unless a test
 * asks for another (a second machine, an impostor).
 */
import { generateKeyPairSync, KeyObject } from "crypto";
import type { RegisterRequest } from "../../runtime/protocol/agent-protocol";
import { signRegistration } from "../../runtime/protocol/host-identity";

export interface TestHostKey {
  privateKey: KeyObject;
  publicKeyPem: string;
}

export function newHostKey(): TestHostKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKey, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() };
}

let shared: TestHostKey | undefined;

/** The process's default host key. */
export function testHostKey(): TestHostKey {
  return (shared ??= newHostKey());
}

let lastSignedAt = 0;

/**
 * `body` with identityKey, a fresh signedAt (strictly increasing within the process, as the
 * server requires per host) and a signature by `key`.
 */
export function signedRegistration(body: Record<string, unknown>, key: TestHostKey = testHostKey()): RegisterRequest {
  lastSignedAt = Math.max(Date.now(), lastSignedAt + 1);
  return signRegistration({ identityKey: key.publicKeyPem, ...body, signedAt: new Date(lastSignedAt).toISOString() } as Omit<RegisterRequest, "signature">, key.privateKey);
}
