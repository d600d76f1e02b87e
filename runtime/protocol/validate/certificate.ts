/**
 * Certificate bodies: `{name, description?, cert, chain?, key}`, all PEM. Create needs every
 * one but chain and description; PUT (rotation) replaces cert, key and chain together, and
 * the name stays. Checked here, without I/O, so the API and the Pulumi provider's check()
 * refuse the same things:
 * - cert: exactly one PEM certificate that parses, valid at `now` (5 minutes' clock skew allowed);
 * - key: one PEM private key (PKCS#8, PKCS#1 or SEC1), not encrypted, RSA of at least 2048
 *   bits or EC on P-256/P-384/P-521 (what HAProxy's OpenSSL takes), matching the cert;
 * - chain: the intermediates, leaf first: chain[0] signs the cert, chain[i] signs chain[i-1].
 *
 * Cryptography and the fields read into the record (CN, SANs, issuer, dates, fingerprint) go
 * through Node's crypto (OpenSSL) for RSA and EC alike; node-forge does the PEM framing.
 * No message ever quotes the key (nor the rest of a PEM text): only block labels and names.
 */
import { type KeyObject, type X509Certificate, createPrivateKey } from "crypto";
import type { CertificateRecord } from "../model";
import { PemBlock, describeBlocks, pemBlocks } from "./pem";
import { Problems, describe } from "./problems";
import { ObjectReader } from "./reader";
import { DESCRIPTION, NAME } from "./rules";
import { CertificateFacts, certificateFacts, describeSubject, oneLineDn, parseCertificate, signs } from "./x509";

export type { CertificateFacts } from "./x509";

/** What a valid body gives: the PEM texts (normalized: blocks only) and what was read from the cert. */
export interface CertificateInput extends CertificateFacts {
  name: string;
  description?: string;
  cert: string;
  chain?: string;
  key: string;
}

const FIELDS = ["name", "description", "cert", "chain", "key"];
const MAX_PEM_CHARS = 64 * 1024;
const MAX_CHAIN_CERTS = 10;
const MAX_CHAIN_CHARS = MAX_CHAIN_CERTS * MAX_PEM_CHARS;
const CERT_EXPECTED = 'a PEM certificate ("-----BEGIN CERTIFICATE-----"...)';
const CHAIN_EXPECTED = 'PEM certificates ("-----BEGIN CERTIFICATE-----"...), the intermediates, leaf first';
const KEY_EXPECTED = 'a PEM private key ("-----BEGIN PRIVATE KEY-----"...), RSA or EC, not encrypted';
const KEY_BLOCKS = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];
/** OpenSSL's curve names → what users call them. */
const CURVES: Record<string, string> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };
const MIN_RSA_BITS = 2048;
/** A certificate issued moments ago by a CA whose clock runs a little ahead is not refused. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export function validateCertificateCreate(body: unknown, existing: CertificateRecord[], now: Date): CertificateInput {
  const p = new Problems();
  const r = new ObjectReader(p, body, "", FIELDS);
  const name = r.string("name", { ...NAME, required: true });
  const description = r.string("description", DESCRIPTION);
  const material = readMaterial(p, r, now);
  if (p.ok && existing.some((c) => c.name === name && c.state !== "removed")) {
    p.add("Conflict", "name", `a certificate named ${name} already exists in this environment`);
  }
  p.throwIfAny();
  return { name: name!, ...(description !== undefined ? { description } : {}), ...material! };
}

/** A PUT: new cert, key and chain (absent chain = none), description replaced; the name cannot change. */
export function validateCertificateUpdate(body: unknown, current: CertificateRecord, now: Date): CertificateInput {
  const p = new Problems();
  const r = new ObjectReader(p, body, "", FIELDS);
  const name = r.string("name", NAME);
  if (name !== undefined && name !== current.name) p.invalid("name", `the certificate's name ${current.name} (names cannot change)`, name);
  const description = r.string("description", DESCRIPTION);
  const material = readMaterial(p, r, now);
  p.throwIfAny();
  return { name: current.name, ...(description !== undefined ? { description } : {}), ...material! };
}

type Material = Omit<CertificateInput, "name" | "description">;

function readMaterial(p: Problems, r: ObjectReader, now: Date): Material | undefined {
  const certText = pemText(p, r, "cert", CERT_EXPECTED, true, MAX_PEM_CHARS);
  const keyText = pemText(p, r, "key", KEY_EXPECTED, true, MAX_PEM_CHARS);
  const chainText = pemText(p, r, "chain", CHAIN_EXPECTED, false, MAX_CHAIN_CHARS);
  const leaf = certText === undefined ? undefined : readLeaf(p, certText, now);
  const key = keyText === undefined ? undefined : readKey(p, keyText);
  if (leaf && key && !matches(leaf.x509, key.object)) p.add("InvalidField", "key", "does not match the certificate's public key");
  const chain = chainText === undefined ? undefined : readChain(p, chainText, leaf?.x509, now);
  if (!p.ok || !leaf || !key) return undefined;
  return { cert: leaf.pem, ...(chain ? { chain } : {}), key: key.pem, ...leaf.facts };
}

/** The field's text, or undefined (problem recorded). A string value is never quoted: it may be a key. */
function pemText(p: Problems, r: ObjectReader, field: string, expected: string, required: boolean, max: number): string | undefined {
  if (!r.has(field)) {
    if (required && r.valid) p.missing(field, expected);
    return undefined;
  }
  const value = r.raw(field);
  if (typeof value !== "string") {
    p.add("InvalidField", field, `expected ${expected} in a string, got ${describe(value)}`);
    return undefined;
  }
  if (value.length > max) {
    p.add("InvalidField", field, `expected ${expected} of at most ${max} characters, got ${value.length}`);
    return undefined;
  }
  // An empty chain is no chain (programs often pass "" for "none").
  if (!required && value.trim() === "") return undefined;
  return value;
}

interface Leaf {
  x509: X509Certificate;
  facts: CertificateFacts;
  pem: string;
}

function readLeaf(p: Problems, text: string, now: Date): Leaf | undefined {
  const blocks = pemBlocks(text);
  if (blocks.length !== 1 || blocks[0].type !== "CERTIFICATE") {
    const hint = blocks.length > 1 ? " (the key goes in key, intermediates in chain)" : "";
    p.add("InvalidField", "cert", `expected ${CERT_EXPECTED}, got ${describeBlocks(blocks)}${hint}`);
    return undefined;
  }
  const x509 = parseBlock(p, "cert", blocks[0]);
  if (!x509) return undefined;
  const facts = certificateFacts(x509);
  if (!checkDates(p, "cert", facts, now)) return undefined;
  return { x509, facts, pem: blocks[0].pem };
}

function parseBlock(p: Problems, field: string, block: PemBlock): X509Certificate | undefined {
  try {
    return parseCertificate(block.der);
  } catch (err) {
    p.add("InvalidField", field, `the PEM certificate is not a readable X.509 certificate (${(err as Error).message})`);
    return undefined;
  }
}

/** Refuses a certificate outside its validity period, with its dates. */
function checkDates(p: Problems, field: string, facts: CertificateFacts, now: Date): boolean {
  const period = `valid from ${facts.notBefore} to ${facts.notAfter}`;
  if (now.getTime() + CLOCK_SKEW_MS < Date.parse(facts.notBefore)) {
    p.add("InvalidField", field, `is not valid yet: ${period}`);
    return false;
  }
  if (now.getTime() > Date.parse(facts.notAfter)) {
    p.add("InvalidField", field, `expired on ${facts.notAfter} (${period})`);
    return false;
  }
  return true;
}

function readKey(p: Problems, text: string): { object: KeyObject; pem: string } | undefined {
  // `openssl ecparam -genkey` writes the curve's parameters before the key: not a second key.
  const all = pemBlocks(text);
  const blocks = all.filter((b) => b.type !== "EC PARAMETERS");
  const block = blocks[0];
  if (blocks.length === 1 && (block.type === "ENCRYPTED PRIVATE KEY" || block.encrypted)) {
    p.add("InvalidField", "key", "is encrypted with a passphrase, which HAProxy is never given: store it decrypted (openssl pkey -in key.pem -out key-plain.pem)");
    return undefined;
  }
  if (blocks.length !== 1 || !KEY_BLOCKS.includes(block.type)) {
    p.add("InvalidField", "key", `expected ${KEY_EXPECTED}, got ${describeBlocks(all)}`);
    return undefined;
  }
  let object: KeyObject;
  try {
    object = createPrivateKey(block.pem);
  } catch (err) {
    // OpenSSL's messages name the decoder that failed, never the key's content.
    p.add("InvalidField", "key", `the PEM "${block.type}" block is not a readable private key (${(err as Error).message})`);
    return undefined;
  }
  const kind = object.asymmetricKeyType;
  const details = object.asymmetricKeyDetails ?? {};
  if (kind === "rsa") {
    const bits = details.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) {
      p.add("InvalidField", "key", `an RSA key of ${bits} bits is too short: at least ${MIN_RSA_BITS} (HAProxy's OpenSSL refuses shorter ones)`);
      return undefined;
    }
  } else if (kind === "ec") {
    const curve = details.namedCurve ?? "unknown";
    if (CURVES[curve] === undefined) {
      p.add("InvalidField", "key", `an EC key on curve ${curve}: expected one of ${Object.values(CURVES).join(", ")}`);
      return undefined;
    }
  } else {
    p.add("InvalidField", "key", `expected an RSA or EC private key, got ${kind ?? "an unknown kind"} (HAProxy serves RSA and ECDSA certificates)`);
    return undefined;
  }
  return { object, pem: block.pem };
}

function matches(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false;
  }
}

/** The chain as normalized PEM, or undefined (problems recorded). Only the first broken link is reported. */
function readChain(p: Problems, text: string, leaf: X509Certificate | undefined, now: Date): string | undefined {
  const blocks = pemBlocks(text);
  if (blocks.length === 0) {
    p.add("InvalidField", "chain", `expected ${CHAIN_EXPECTED}, got no PEM block`);
    return undefined;
  }
  if (blocks.length > MAX_CHAIN_CERTS) {
    p.add("InvalidField", "chain", `expected at most ${MAX_CHAIN_CERTS} certificates, got ${blocks.length}`);
    return undefined;
  }
  const before = p.list.length;
  const certs: X509Certificate[] = [];
  blocks.forEach((block, i) => {
    const field = `chain[${i}]`;
    if (block.type !== "CERTIFICATE") {
      p.add("InvalidField", field, `expected ${CERT_EXPECTED}, got a PEM "${block.type}" block`);
      return;
    }
    const x509 = parseBlock(p, field, block);
    if (x509 && checkDates(p, field, certificateFacts(x509), now)) certs.push(x509);
  });
  if (p.list.length !== before) return undefined;
  if (leaf) {
    for (let i = 0; i < certs.length; i++) {
      const subject = i === 0 ? leaf : certs[i - 1];
      if (signs(certs[i], subject)) continue;
      const signer = certs.findIndex((c, k) => k !== i && signs(c, subject));
      const hint = signer >= 0 ? `; chain[${signer}] does: list the chain leaf first, each certificate followed by the one that signed it` : "";
      p.add("InvalidField", `chain[${i}]`,
        `${describeSubject(certs[i])} does not sign ${i === 0 ? "the certificate" : `chain[${i - 1}]`} (whose issuer is ${JSON.stringify(oneLineDn(subject.issuer))})${hint}`);
      return undefined;
    }
  }
  return blocks.map((b) => b.pem).join("");
}
