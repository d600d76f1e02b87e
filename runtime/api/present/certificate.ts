import type { CertificateRecord } from "../../protocol/model";
import type { Urls } from "../urls";
import type { ResourceJson } from "./resource";

/**
 * The fields a certificate shows, and only these: an allow-list, so the private key (and any
 * field added to the record later) stays out of every answer and event unless listed here.
 */
const SHOWN: ReadonlyArray<Exclude<keyof CertificateRecord, "key">> = [
  "name", "description", "cert", "chain", "commonName", "subjectAlternativeNames", "issuer",
  "notBefore", "notAfter", "fingerprint", "state", "createdAt",
];

export function presentCertificate(cert: CertificateRecord, urls: Urls): ResourceJson {
  const shown: Record<string, unknown> = {};
  for (const field of SHOWN) if (cert[field] !== undefined) shown[field] = cert[field];
  return {
    id: cert.id,
    type: "certificate",
    ...shown,
    links: { self: urls.env(cert.envId, "certificates", cert.id), environment: urls.env(cert.envId) },
    actions: {},
  };
}
