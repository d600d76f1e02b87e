/**
 * Certificates made for tests: RSA ones with node-forge (keys from Node's crypto, which makes
 * them in milliseconds where forge's own generator takes seconds), EC ones with the openssl
 * CLI (node-forge cannot hold an EC key). Validity is relative to now, so they never age.
 */
import { execFileSync } from "child_process";
import { generateKeyPairSync, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as forge from "node-forge";

export interface TestCert {
  /** PEM certificate. */
  cert: string;
  /** PEM private key (PKCS#8). */
  key: string;
}

export interface CertOptions {
  cn: string;
  /** DNS names (IP addresses when they look like one). */
  sans?: string[];
  /** Signed by this CA; self-signed without. */
  issuer?: TestCert;
  /** Make it a CA (basicConstraints cA, keyCertSign). */
  ca?: boolean;
  /** Validity relative to now, in days (defaults -1 and +30). */
  fromDays?: number;
  toDays?: number;
  bits?: number;
  /** Extra subject attributes, e.g. O. */
  org?: string;
}

const DAY = 24 * 3600 * 1000;

export function rsaKeyPem(bits = 2048): string {
  return generateKeyPairSync("rsa", { modulusLength: bits }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

export function makeCert(o: CertOptions): TestCert {
  const keyPem = rsaKeyPem(o.bits ?? 2048);
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.rsa.setPublicKey(key.n, key.e);
  cert.serialNumber = `01${randomBytes(8).toString("hex")}`;
  cert.validity.notBefore = new Date(Date.now() + (o.fromDays ?? -1) * DAY);
  cert.validity.notAfter = new Date(Date.now() + (o.toDays ?? 30) * DAY);
  const subject = [{ name: "commonName", value: o.cn }, ...(o.org ? [{ name: "organizationName", value: o.org }] : [])];
  cert.setSubject(subject);
  const issuer = o.issuer ? forge.pki.certificateFromPem(o.issuer.cert) : undefined;
  cert.setIssuer(issuer ? issuer.subject.attributes : subject);
  const extensions: any[] = [{ name: "basicConstraints", cA: o.ca === true, critical: o.ca === true }];
  if (o.ca) extensions.push({ name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true });
  else extensions.push({ name: "keyUsage", digitalSignature: true, keyEncipherment: true }, { name: "extKeyUsage", serverAuth: true });
  if (o.sans?.length) {
    extensions.push({
      name: "subjectAltName",
      altNames: o.sans.map((n) => (/^[\d.]+$/.test(n) ? { type: 7, ip: n } : { type: 2, value: n })),
    });
  }
  cert.setExtensions(extensions);
  const signer = o.issuer ? (forge.pki.privateKeyFromPem(o.issuer.key) as forge.pki.rsa.PrivateKey) : key;
  cert.sign(signer, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem };
}

/** A root CA, an intermediate it signs, and a leaf the intermediate signs. */
export function makeChain(cn: string, sans: string[] = [cn]): { root: TestCert; intermediate: TestCert; leaf: TestCert } {
  const root = makeCert({ cn: "drover test root", org: "drover", ca: true, toDays: 3650 });
  const intermediate = makeCert({ cn: "drover test intermediate", org: "drover", ca: true, issuer: root, toDays: 365 });
  const leaf = makeCert({ cn, sans, issuer: intermediate });
  return { root, intermediate, leaf };
}

/** The key encrypted with a passphrase: PKCS#8 ("ENCRYPTED PRIVATE KEY") or legacy (Proc-Type header). */
export function encryptedKey(keyPem: string, legacy = false): string {
  const key = forge.pki.privateKeyFromPem(keyPem);
  return forge.pki.encryptRsaPrivateKey(key, "passphrase", legacy ? { legacy: true, algorithm: "aes256" } : { algorithm: "aes256" });
}

/** A self-signed ECDSA (P-256) certificate and its key, made by the openssl CLI. */
export function makeEcCert(cn: string, sans: string[] = [cn]): TestCert {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-ec-"));
  try {
    const keyFile = path.join(dir, "key.pem");
    const certFile = path.join(dir, "cert.pem");
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
      "-keyout", keyFile, "-out", certFile, "-days", "30", "-subj", `/CN=${cn}`,
      "-addext", `subjectAltName=${sans.map((s) => `DNS:${s}`).join(",")}`,
    ], { stdio: "ignore" });
    return { cert: fs.readFileSync(certFile, "utf8"), key: fs.readFileSync(keyFile, "utf8") };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Whether `text` holds any base64 line of the key (a PEM key in JSON has its lines split by
 * "\\n", so each line is looked for on its own).
 */
export function leaksKey(text: string, keyPem: string): boolean {
  return keyPem.split("\n").filter((l) => l.length >= 40 && !l.startsWith("-----")).some((l) => text.includes(l));
}
