/**
 * What a server needs for TLS, made at start from the CA in its TLS dir: the API's
 * certificate (unless the operator gives one), a client certificate of its own for Redis
 * (mutual TLS), and a way to issue each host its client certificate at registration.
 *
 * TLS is opt-in (config.ts): the API with `--api-tls on` (or auto: unless it listens on
 * loopback), Redis whenever its URL is rediss://. With the API on TLS, agents on other
 * machines must not get a plaintext Redis URL (their password would cross in the clear):
 * that is refused at start (config.ts) and by the agent itself (agent/agent.ts).
 */
import * as fs from "fs";
import { isIP } from "net";
import * as os from "os";
import { type CertificateAuthority, certificateFingerprint, issueCertificate, loadOrCreateCa } from "./ca";

export interface ServerTlsConfig {
  tlsDir: string;
  /** API certificate and key files given by the operator (PEM); else one from the CA. */
  apiCertFile?: string;
  apiKeyFile?: string;
  apiTls: boolean;
  /** Names and addresses the API certificate is for (besides the listen address). */
  apiNames: string[];
  listenHost: string;
  /** Whether the server's Redis or the agents' is rediss:// (a client certificate is needed). */
  redisTls: boolean;
}

export interface ServerTls {
  ca: CertificateAuthority;
  /** PEM key and certificate chain (leaf then CA) for the HTTPS API; absent: plain HTTP (loopback). */
  api?: { key: string; cert: string; fingerprint: string };
  /** The server's own Redis client certificate. */
  redisClient?: { key: string; cert: string };
  /** A host's Redis client certificate, for its identity key. */
  hostClientCert(publicKeyPem: string, username: string): string;
}

/** How long certificates the server issues are valid: API and server client a year (made at every start), hosts five years. */
const API_DAYS = 365;
const HOST_DAYS = 5 * 365;

/** The addresses a wildcard listen (0.0.0.0, ::) answers on, plus the machine's names. */
function listenNames(listenHost: string): string[] {
  const h = listenHost.replace(/^\[|\]$/g, "");
  if (h !== "0.0.0.0" && h !== "::" && h !== "") return [h];
  const addrs = Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address.split("%")[0]));
  return [...addrs, os.hostname(), "localhost"];
}

export async function serverTls(c: ServerTlsConfig): Promise<ServerTls> {
  const ca = await loadOrCreateCa(c.tlsDir);
  let api: ServerTls["api"];
  if (c.apiTls) {
    if (c.apiCertFile && c.apiKeyFile) {
      const cert = fs.readFileSync(c.apiCertFile, "utf8");
      api = { cert, key: fs.readFileSync(c.apiKeyFile, "utf8"), fingerprint: certificateFingerprint(cert) };
    } else {
      const names = [...new Set([...listenNames(c.listenHost), ...c.apiNames].filter((n) => n && (isIP(n) || /^[A-Za-z0-9.-]+$/.test(n))))];
      const issued = issueCertificate(ca, { commonName: names[0] ?? "drover", names, usage: ["server"], days: API_DAYS });
      // The chain ends with the CA, so a client pinning the CA's fingerprint can find it.
      api = { cert: issued.cert + ca.cert, key: issued.key!, fingerprint: certificateFingerprint(issued.cert) };
    }
  }
  let redisClient: ServerTls["redisClient"];
  if (c.redisTls) {
    const issued = issueCertificate(ca, { commonName: `drover-server-${os.hostname()}`, usage: ["client"], days: API_DAYS });
    redisClient = { cert: issued.cert, key: issued.key! };
  }
  return {
    ca, api, redisClient,
    hostClientCert(publicKeyPem, username) {
      return issueCertificate(ca, { commonName: username, usage: ["client"], days: HOST_DAYS, publicKeyPem }).cert;
    },
  };
}
