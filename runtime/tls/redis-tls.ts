/**
 * Redis with TLS, as drover expects it: a certificate from drover's CA for the addresses
 * agents use, TLS only (`--port 0`), and client certificates required (mutual TLS: the
 * server and each host present one from the same CA).
 */
import * as fs from "fs";
import * as path from "path";
import { type CertificateAuthority, issueCertificate } from "./ca";

export interface RedisTlsFiles {
  cert: string;
  key: string;
  ca: string;
}

/** Writes redis.pem, redis-key.pem (0600) and ca.pem into `dir` for `names` (addresses and DNS names agents use). */
export function writeRedisCertificate(ca: CertificateAuthority, names: string[], dir: string): RedisTlsFiles {
  const issued = issueCertificate(ca, { commonName: names[0] ?? "redis", names, usage: ["server"], days: 825 });
  fs.mkdirSync(dir, { recursive: true });
  const files = { cert: path.join(dir, "redis.pem"), key: path.join(dir, "redis-key.pem"), ca: path.join(dir, "redis-ca.pem") };
  fs.writeFileSync(files.cert, issued.cert, { mode: 0o644 });
  fs.writeFileSync(files.key, issued.key!, { mode: 0o600 });
  fs.writeFileSync(files.ca, ca.cert, { mode: 0o644 });
  return files;
}

/** redis-server arguments for TLS only on `port` with client certificates required. */
export function redisTlsArgs(files: RedisTlsFiles, port: number): string[] {
  return [
    "--port", "0", "--tls-port", String(port),
    "--tls-cert-file", files.cert, "--tls-key-file", files.key, "--tls-ca-cert-file", files.ca,
    "--tls-auth-clients", "yes", "--tls-protocols", "TLSv1.2 TLSv1.3",
  ];
}
