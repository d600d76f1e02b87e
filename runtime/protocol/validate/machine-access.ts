/** PUT /v1/environments/:envId/hosts/:id/machineaccess bodies: how to log in to a machine drover made. */
import type { HostMachineAccess } from "../model";
import { Problems } from "./problems";
import { ObjectReader } from "./reader";

const PRIVATE_KEY = /^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]+-----END [A-Z0-9 ]*PRIVATE KEY-----\s*$/;
const FIELDS = ["user", "address", "port", "privateKey", "publicKey", "hostKey"] as const;

export function validateMachineAccess(body: unknown): HostMachineAccess {
  const p = new Problems();
  const r = new ObjectReader(p, body, "", FIELDS);
  const user = r.string("user", { expected: "a login name", pattern: /^[a-z_][a-z0-9_.-]{0,31}$/i, required: true });
  const address = r.string("address", { expected: "an IP address or DNS name", pattern: /^[A-Za-z0-9.:-]{1,253}$/, required: true });
  const port = r.integer("port", 1, 65535, true);
  // Checked by hand: a refusal must not quote the value (the generic reader would).
  const rawKey = r.raw("privateKey");
  const privateKey = typeof rawKey === "string" && rawKey.length <= 16384 && PRIVATE_KEY.test(rawKey) ? rawKey : undefined;
  if (rawKey === undefined || rawKey === null) p.missing("privateKey", "an unencrypted PEM or OpenSSH private key");
  else if (privateKey === undefined) p.invalid("privateKey", "an unencrypted PEM or OpenSSH private key (the value is not shown)");
  const publicKey = r.string("publicKey", { expected: "an OpenSSH public key line", pattern: /^(ssh-(rsa|ed25519)|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( [^\n]*)?$/, maxLength: 16384, required: true });
  const hostKey = r.string("hostKey", { expected: "a host key fingerprint \"SHA256:…\"", pattern: /^SHA256:[A-Za-z0-9+/]{43}=?$/ });
  p.throwIfAny();
  return { user: user!, address: address!, port: port!, privateKey: privateKey!, publicKey: publicKey!, ...(hostKey ? { hostKey } : {}) };
}
