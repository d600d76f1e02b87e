/**
 * drover's certificate authority: a CA key and certificate the server keeps in its TLS dir
 * (default /var/lib/drover/tls), from which it issues the API's certificate, Redis's, and a
 * client certificate per host (and one for itself) for mutual TLS with Redis.
 *
 * Certificates are built with node-forge and signed with Node's crypto (OpenSSL): forge's
 * own RSA signing takes about 50 ms a certificate in JavaScript, which 1,000 hosts
 * registering at once would feel; OpenSSL takes about 1 ms.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, randomBytes, sign } from "crypto";
import { pemFingerprint } from "../protocol/pinned-https";
import { waitFor } from "../protocol/poll";
import * as fs from "fs";
import { isIP } from "net";
import * as path from "path";
import * as forge from "node-forge";

export interface CertificateAuthority {
  /** PEM. */
  cert: string;
  key: KeyObject;
  /** "sha256:<hex>" of the CA certificate's DER: what agents and the provider pin. */
  fingerprint: string;
}

export interface IssuedCertificate {
  /** PEM of the leaf. */
  cert: string;
  /** PEM (PKCS#8) of its private key, when this call made the key pair. */
  key?: string;
}

const CA_DAYS = 3650;
const DAY_MS = 86_400_000;

/** "sha256:<64 hex>" of a PEM certificate's DER (runtime/protocol/pinned-https.ts, shared with agents). */
export { pemFingerprint as certificateFingerprint } from "../protocol/pinned-https";

function forgeKeys(key: KeyObject): { priv: forge.pki.rsa.PrivateKey; pub: forge.pki.rsa.PublicKey } {
  const pem = key.export({ type: "pkcs1", format: "pem" }).toString();
  const priv = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { priv, pub: forge.pki.setRsaPublicKey(priv.n, priv.e) };
}

function serial(): string {
  // Positive (high bit clear), 16 bytes: unique without any bookkeeping.
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString("hex");
}

/** Signs a forge certificate with `key` through Node's crypto (sha256WithRSAEncryption). */
function signWith(cert: forge.pki.Certificate, key: KeyObject): string {
  const oid = forge.pki.oids.sha256WithRSAEncryption;
  (cert as unknown as { siginfo: { algorithmOid: string } }).siginfo.algorithmOid = oid;
  (cert as unknown as { signatureOid: string }).signatureOid = oid;
  // getTBSCertificate is in node-forge, not in its type definitions.
  const tbsOf = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate;
  const tbs = forge.asn1.toDer(tbsOf(cert)).getBytes();
  cert.signature = sign("sha256", Buffer.from(tbs, "binary"), key).toString("binary");
  return forge.pki.certificateToPem(cert);
}

export function createCa(commonName = "drover CA"): { cert: string; key: KeyObject } {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 3072 });
  const { pub } = forgeKeys(privateKey);
  const cert = forge.pki.createCertificate();
  cert.publicKey = pub;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = new Date(Date.now() + CA_DAYS * DAY_MS);
  const subject = [{ name: "commonName", value: commonName }, { name: "organizationName", value: "drover" }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  return { cert: signWith(cert, privateKey), key: privateKey };
}

export interface IssueOptions {
  commonName: string;
  /** IP addresses and DNS names the certificate is valid for (a server's). */
  names?: string[];
  /** server: TLS server auth; client: TLS client auth. */
  usage: Array<"server" | "client">;
  days: number;
  /** The subject's public key (PEM); a new RSA 2048 key pair is made when absent (returned in `key`). */
  publicKeyPem?: string;
}

export function issueCertificate(ca: CertificateAuthority, o: IssueOptions): IssuedCertificate {
  let keyPem: string | undefined;
  let publicKey: KeyObject;
  if (o.publicKeyPem) {
    publicKey = createPublicKey(o.publicKeyPem);
  } else {
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    keyPem = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    publicKey = pair.publicKey;
  }
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" }).toString());
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = new Date(Date.now() + o.days * DAY_MS);
  cert.setSubject([{ name: "commonName", value: o.commonName.slice(0, 64) }, { name: "organizationName", value: "drover" }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = (o.names ?? []).map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n }));
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: o.usage.includes("server"), clientAuth: o.usage.includes("client") },
    ...(altNames.length ? [{ name: "subjectAltName", altNames }] : []),
    { name: "authorityKeyIdentifier", keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  return { cert: signWith(cert, ca.key), ...(keyPem ? { key: keyPem } : {}) };
}

/**
 * The CA in `dir` (ca.pem, ca-key.pem mode 0600), made when absent. Several servers starting
 * at once with one dir agree on one CA: the key file is created exclusively (link), and a
 * loser waits for the winner's certificate.
 */
export async function loadOrCreateCa(dir: string): Promise<CertificateAuthority> {
  const certFile = path.join(dir, "ca.pem");
  const keyFile = path.join(dir, "ca-key.pem");
  if (!fs.existsSync(keyFile)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const made = createCa();
    const tag = `${process.pid}.${randomBytes(4).toString("hex")}`;
    fs.writeFileSync(`${certFile}.${tag}`, made.cert, { mode: 0o644 });
    fs.writeFileSync(`${keyFile}.${tag}`, made.key.export({ type: "pkcs8", format: "pem" }).toString(), { mode: 0o600 });
    try {
      fs.linkSync(`${keyFile}.${tag}`, keyFile);
      fs.renameSync(`${certFile}.${tag}`, certFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    } finally {
      fs.rmSync(`${keyFile}.${tag}`, { force: true });
      fs.rmSync(`${certFile}.${tag}`, { force: true });
    }
  }
  await waitFor(() => fs.existsSync(certFile), { what: `${certFile} beside ${keyFile} (another process making the CA)`, timeoutMs: 10_000, intervalMs: 20 });
  const cert = fs.readFileSync(certFile, "utf8");
  const key = createPrivateKey(fs.readFileSync(keyFile, "utf8"));
  return { cert, key, fingerprint: pemFingerprint(cert) };
}
