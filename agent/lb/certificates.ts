/**
 * The files an https frontend needs: one PEM bundle per certificate (certificate, chain,
 * key) and a crt-list naming them with the default certificate FIRST (HAProxy offers the
 * first one to clients whose SNI name matches no certificate, or that send none; for the
 * others it picks by the names in each certificate). Files are named by a hash of their
 * content, so writing a new one never changes a file the running HAProxy uses, and a config
 * `haproxy -c` refuses leaves nothing half-replaced. Pure: the caller writes them (0600);
 * their content (private keys) never goes to a log.
 */
import { createHash } from "crypto";
import * as path from "path";
import type { DesiredLoadBalancer } from "../../runtime/protocol/model";
import { LbSpecError } from "./spec-error";

export interface CertificateFile {
  /** Absolute path under the instance's certs dir. */
  path: string;
  content: string;
  /** The CertificateRecord id, to name it in errors instead of the hashed file name. */
  certificateId?: string;
}

export interface CertificatePlan {
  /** The crt-list file the https binds use. */
  crtList: string;
  /** PEM bundles then the crt-list itself. */
  files: CertificateFile[];
}

/** undefined when the load balancer has no https rule (nothing to write). */
export function planCertificates(lb: Pick<DesiredLoadBalancer, "spec" | "certificates">, certsDir: string): CertificatePlan | undefined {
  if (!lb.spec.portRules.some((r) => r.protocol === "https")) return undefined;
  const ids = [...lb.spec.certificateIds];
  const defaultId = lb.spec.defaultCertificateId ?? ids[0];
  if (defaultId === undefined) {
    throw new LbSpecError("certificateIds", "at least one certificate: an https rule terminates TLS");
  }
  const ordered = [defaultId, ...ids.filter((id) => id !== defaultId)];
  const files: CertificateFile[] = ordered.map((id) => {
    const m = lb.certificates?.[id];
    if (!m) throw new LbSpecError(`certificates.${id}`, "the certificate's PEM material (certificate and key) in the desired document");
    if (typeof m.cert !== "string" || !m.cert.includes("-----BEGIN CERTIFICATE-----")) {
      throw new LbSpecError(`certificates.${id}.cert`, "a PEM certificate");
    }
    // The key's content is secret: the error never quotes it.
    if (typeof m.key !== "string" || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(m.key)) {
      throw new LbSpecError(`certificates.${id}.key`, "a PEM private key");
    }
    const content = [m.cert, m.chain, m.key].filter((s): s is string => !!s).map((s) => s.trim() + "\n").join("");
    return { path: path.join(certsDir, `${hash(content)}.pem`), content, certificateId: id };
  });
  const listContent = files.map((f) => f.path).join("\n") + "\n";
  const crtList = path.join(certsDir, `crt-list-${hash(listContent)}.txt`);
  return { crtList, files: [...files, { path: crtList, content: listContent }] };
}

function hash(content: string): string {
  return createHash("sha256").update(content).digest("hex").slice(0, 20);
}
