/**
 * Talking to a drover server whose certificate comes from drover's own CA, pinned by the
 * CA's SHA-256 fingerprint (given out of band: the server's "server ready" line, `drover tls
 * fingerprint`, the environment's creation answer):
 *
 * 1. GET /v1/ca without verifying (nothing is trusted yet) and compare the CA certificate's
 *    fingerprint with the pin; another one is refused, saying so.
 * 2. From then on, every request verifies the server's certificate against that CA only
 *    (name or address included): nobody in the middle can answer in the server's place,
 *    even holding the public CA certificate, since it lacks the CA's key.
 *
 * node's fetch cannot take a CA, so requests go through http/https directly. Agents and the
 * Pulumi provider use this; neither has any I/O at module scope.
 */
import { createHash, X509Certificate } from "crypto";
import * as http from "http";
import * as https from "https";
import { DroverError } from "./errors";
import { normalizeFingerprint } from "./fingerprint";

export { normalizeFingerprint };

export interface HttpReply {
  status: number;
  text: string;
  /** The body as received (an archive is not text). */
  bytes: Buffer;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** PEM of the only CA to trust for https:// (else the system's roots). */
  ca?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Skip verification: only for fetching the CA whose fingerprint is then checked. */
  unverified?: boolean;
  /** A keep-alive agent whose connection later requests reuse (default: a connection per request over https). */
  agent?: http.Agent;
}

/** "sha256:<hex>" of a PEM certificate's DER. */
export function pemFingerprint(pem: string): string {
  return `sha256:${createHash("sha256").update(new X509Certificate(pem).raw).digest("hex")}`;
}

const VERIFY_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_SIGNATURE_FAILURE", "ERR_TLS_CERT_ALTNAME_INVALID", "CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID", "UNABLE_TO_GET_ISSUER_CERT",
]);

/** Whether `err` is a certificate verification failure (not the network). */
export function isCertificateError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code !== undefined && VERIFY_CODES.has(code);
}

export function request(url: string, o: RequestOptions = {}): Promise<HttpReply> {
  const u = new URL(url);
  const secure = u.protocol === "https:";
  const lib = secure ? https : http;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...o.headers };
    if (o.body !== undefined) headers["content-length"] = Buffer.byteLength(o.body);
    const req = lib.request(u, {
      method: o.method ?? "GET",
      headers,
      ...(secure ? { ca: o.ca, rejectUnauthorized: !o.unverified, minVersion: "TLSv1.2" as const, agent: false } : {}),
      ...(o.agent ? { agent: o.agent } : {}),
      timeout: o.timeoutMs ?? 30_000,
      signal: o.signal,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, text: bytes.toString("utf8"), bytes });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer from ${u.origin} within ${(o.timeoutMs ?? 30_000) / 1000} s`), { name: "TimeoutError" })));
    req.on("error", reject);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

/**
 * The server's CA certificate (PEM) when its fingerprint is `pin`; a DroverError
 * (Forbidden, not retryable) naming both fingerprints otherwise.
 */
export async function fetchPinnedCa(baseUrl: string, pin: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
  const want = normalizeFingerprint(pin);
  if (!want) throw new DroverError("InvalidField", `ca fingerprint: expected a SHA-256 fingerprint such as sha256:3f1c…, got ${JSON.stringify(pin)}`, { field: "caFingerprint", retryable: false });
  const url = `${baseUrl.replace(/\/+$/, "")}/v1/ca`;
  const reply = await request(url, { unverified: true, timeoutMs: opts.timeoutMs, signal: opts.signal, headers: { accept: "application/json" } });
  let cert: string | undefined;
  try {
    cert = (JSON.parse(reply.text) as { cert?: string }).cert;
  } catch {
    cert = undefined;
  }
  if (reply.status >= 500) throw new DroverError("Unavailable", `${url} answered HTTP ${reply.status}`);
  if (reply.status !== 200 || typeof cert !== "string") {
    throw new DroverError("Forbidden", `${url} answered HTTP ${reply.status} without a CA certificate: not a drover server with TLS, or not the one pinned (${want})`, { retryable: false });
  }
  let got: string;
  try {
    got = pemFingerprint(cert);
  } catch {
    throw new DroverError("Forbidden", `${url} answered with something that is not a certificate (pinned CA ${want})`, { retryable: false });
  }
  if (got !== want) {
    throw new DroverError("Forbidden", `the server at ${baseUrl} presents a CA with fingerprint ${got}, not the pinned ${want}: refused (another CA, or someone answering in the server's place)`, { retryable: false });
  }
  return cert;
}

/**
 * A message for a request refused by certificate verification: against the pinned CA
 * (`pinned`), or against the system's roots when nothing was pinned (then: how to pin).
 */
export function certificateRefusal(url: string, err: unknown, pinned: boolean): DroverError {
  const code = (err as { code?: string })?.code ?? "";
  const what = code === "ERR_TLS_CERT_ALTNAME_INVALID"
    ? "is not issued for this address (the server's --tls-san adds names and addresses)"
    : pinned ? "is not signed by the pinned CA"
      : "is not trusted: for a server with drover's own CA give --ca-fingerprint (`drover tls fingerprint` on the server prints it)";
  return new DroverError("Forbidden", `${url}: the server's certificate ${what}: refused (${code || (err as Error)?.message})`, { retryable: false, cause: err });
}
