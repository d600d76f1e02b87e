/**
 * A fresh SSH key pair per host (Ed25519, OpenSSH formats): the droplet is created with its
 * public half, so only this host's key opens it; deleting the host removes the key from the
 * account.
 *
 * Ed25519, not RSA: an RSA-3072 pair costs about 0.7 CPU-seconds to generate (OpenSSL, in
 * the thread pool), the biggest cost of a host's bootstrap on the provider's machine when
 * ten hosts are created at once; an Ed25519 pair costs well under a millisecond.
 * DigitalOcean, OpenSSH and ssh2 all take it. Made by Node's crypto and written in OpenSSH's
 * formats by ssh2 (already drover's SSH client), so no key format is hand-written here.
 */
import { createHash } from "crypto";

export interface SshKeyPair {
  privateKey: string;
  publicKey: string;
  /** MD5 of the public key blob, colon-separated: what DigitalOcean answers as the key's `fingerprint`. */
  md5Fingerprint: string;
}

/** "ssh-ed25519" with its length, then the 32-byte key with its length: the whole public blob. */
const ED25519_BLOB_BYTES = 4 + "ssh-ed25519".length + 4 + 32;

export async function makeKeyPair(comment: string): Promise<SshKeyPair> {
  const { utils } = require("ssh2") as { utils: { generateKeyPairSync(type: "ed25519", o: { comment: string }): { private: string; public: string } } };
  // ssh2 1.17 drops the leading zero bytes of a public key that starts with one (about 1 in
  // 256; mscdex/ssh2#1390, #1513): such a pair is unusable (neither ssh2 nor OpenSSH loads
  // it). It shows as a short public blob; make another pair then.
  for (let attempt = 1; ; attempt++) {
    const pair = utils.generateKeyPairSync("ed25519", { comment });
    const publicKey = pair.public.trim();
    const blob = Buffer.from(publicKey.split(/\s+/)[1], "base64");
    if (blob.length !== ED25519_BLOB_BYTES) {
      if (attempt < 32) continue;
      throw new Error(`SSH key pair: ${attempt} Ed25519 pairs in a row came out malformed (public blob of ${blob.length} bytes)`);
    }
    return {
      privateKey: pair.private,
      publicKey,
      md5Fingerprint: createHash("md5").update(blob).digest("hex").match(/../g)!.join(":"),
    };
  }
}
