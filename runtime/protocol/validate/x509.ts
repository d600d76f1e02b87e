/**
 * What drover reads from an X.509 certificate, through Node's crypto (OpenSSL): it parses
 * RSA and EC certificates alike, where node-forge's certificate reader knows only RSA keys.
 * OpenSSL is also what HAProxy loads certificates with, so both judge a file the same way.
 */
import { X509Certificate, createHash } from "crypto";
import type { CertificateFacts } from "../model";

export type { CertificateFacts };

/** Parses one DER certificate; throws Node's error when it is not one. */
export function parseCertificate(der: Buffer): X509Certificate {
  return new X509Certificate(der);
}

export function certificateFacts(x: X509Certificate): CertificateFacts {
  return {
    commonName: dnEntries(x.subject).find(([k]) => k === "CN")?.[1] ?? "",
    subjectAlternativeNames: altNames(x.subjectAltName),
    issuer: oneLineDn(x.issuer),
    notBefore: isoDate(x.validFrom),
    notAfter: isoDate(x.validTo),
    fingerprint: createHash("sha256").update(x.raw).digest("hex"),
  };
}

/** Node prints a DN as `CN=a\nO=b\, c` (one attribute a line, specials escaped with `\`). */
export function dnEntries(dn: string): Array<[string, string]> {
  return dn.split("\n").filter((line) => line.includes("=")).map((line) => {
    const at = line.indexOf("=");
    return [line.slice(0, at), line.slice(at + 1).replace(/\\(.)/g, "$1")];
  });
}

export function oneLineDn(dn: string): string {
  return dn.split("\n").filter((line) => line !== "").join(", ");
}

/**
 * Node prints subjectAltName as `DNS:a.example, IP Address:10.0.0.1, email:x@y`; a value
 * with a comma or quote in it is a JSON string (`DNS:"a,b"`). Keeps DNS names and addresses.
 */
export function altNames(text: string | undefined): string[] {
  if (!text) return [];
  const out: string[] = [];
  const entry = /(?:^|, )([^:,]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (let m = entry.exec(text); m !== null; m = entry.exec(text)) {
    const value = m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2];
    if (m[1] === "DNS" || m[1] === "IP Address") out.push(value);
  }
  return out;
}

/** OpenSSL's `Dec  2 16:38:09 2026 GMT` as an ISO time. */
function isoDate(text: string): string {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`unreadable certificate date ${JSON.stringify(text)}`);
  return new Date(ms).toISOString();
}

/** Whether `issuer` issued and signed `subject` (names match and the signature verifies). */
export function signs(issuer: X509Certificate, subject: X509Certificate): boolean {
  try {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** `"CN=drover CA, O=drover"`, for messages. */
export function describeSubject(x: X509Certificate): string {
  return JSON.stringify(oneLineDn(x.subject));
}
