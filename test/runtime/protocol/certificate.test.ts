/**
 * The certificate validator on its own (pure): what it reads from good certificates (RSA with
 * a chain, EC), and every refusal with the field it names; no message ever quotes the key.
 */
import t from "tap";
import type { CertificateRecord } from "../../../runtime/protocol/model";
import { validateCertificateCreate, validateCertificateUpdate } from "../../../runtime/protocol/validate/certificate";
import { encryptedKey, leaksKey, makeCert, makeChain, makeEcCert, rsaKeyPem } from "../../support/certs";

const now = new Date();
const { root, intermediate, leaf } = makeChain("www.example.com", ["www.example.com", "*.example.com", "10.1.2.3"]);
const chain = intermediate.cert + root.cert;

/** The validator's problems as [field, message] pairs ([] when it accepts). */
function problems(body: unknown, existing: CertificateRecord[] = []): Array<[string, string]> {
  try {
    validateCertificateCreate(body, existing, now);
    return [];
  } catch (err: any) {
    const list = err.detail?.errors ?? [{ field: err.field, message: err.message }];
    return list.map((e: any) => [e.field, e.message]);
  }
}

t.test("reads the facts of an RSA certificate with its chain", async (t) => {
  const out = validateCertificateCreate({ name: "www", description: "front", cert: leaf.cert, chain, key: leaf.key }, [], now);
  t.match(out, {
    name: "www", description: "front", commonName: "www.example.com",
    subjectAlternativeNames: ["www.example.com", "*.example.com", "10.1.2.3"],
    issuer: "CN=drover test intermediate, O=drover",
    fingerprint: /^[0-9a-f]{64}$/,
  });
  t.ok(Date.parse(out.notBefore) < now.getTime() && Date.parse(out.notAfter) > now.getTime(), "dates read as ISO times");
  t.equal(out.cert.trim(), leaf.cert.replace(/\r\n/g, "\n").trim(), "cert kept as PEM");
  t.equal((out.chain!.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, "chain keeps both certificates");
  const withJunk = validateCertificateCreate({ name: "www", cert: `Bag Attributes\n  friendlyName: x\n${leaf.cert}`, key: leaf.key }, [], now);
  t.equal(withJunk.cert, out.cert, "text around the PEM block is dropped");
  t.equal(withJunk.chain, undefined, "no chain");
  t.equal(validateCertificateCreate({ name: "www", cert: leaf.cert, key: leaf.key, chain: "" }, [], now).chain, undefined, "an empty chain is none");
});

t.test("reads an EC certificate (Node's crypto where node-forge knows only RSA)", async (t) => {
  const ec = makeEcCert("ec.example.com", ["ec.example.com", "api.example.com"]);
  const out = validateCertificateCreate({ name: "ec", cert: ec.cert, key: ec.key }, [], now);
  t.match(out, { commonName: "ec.example.com", subjectAlternativeNames: ["ec.example.com", "api.example.com"], issuer: "CN=ec.example.com" });
  t.same(problems({ name: "ec", cert: ec.cert, key: leaf.key }), [["key", "key: does not match the certificate's public key"]], "an RSA key for an EC cert");
});

t.test("every refusal names its field and never quotes the key", async (t) => {
  const other = makeCert({ cn: "other.example.com" });
  const expired = makeCert({ cn: "old.example.com", fromDays: -60, toDays: -1 });
  const future = makeCert({ cn: "new.example.com", fromDays: 2, toDays: 30 });
  const short = makeCert({ cn: "short.example.com", bits: 1024 });
  const ok = { name: "c1", cert: leaf.cert, key: leaf.key };
  const cases: Array<{ what: string; body: unknown; field: string; message: RegExp }> = [
    { what: "garbage cert", body: { ...ok, cert: "hello" }, field: "cert", message: /^cert: expected a PEM certificate \("-----BEGIN CERTIFICATE-----"\.\.\.\), got no PEM block$/ },
    { what: "a key in cert", body: { ...ok, cert: leaf.key }, field: "cert", message: /got a PEM "PRIVATE KEY" block/ },
    { what: "cert and chain in cert", body: { ...ok, cert: leaf.cert + intermediate.cert }, field: "cert", message: /got 2 PEM blocks .*intermediates in chain/ },
    { what: "a broken DER", body: { ...ok, cert: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" }, field: "cert", message: /not a readable X\.509 certificate/ },
    { what: "cert not a string", body: { ...ok, cert: 42 }, field: "cert", message: /in a string, got 42/ },
    { what: "no cert", body: { name: "c1", key: leaf.key }, field: "cert", message: /required/ },
    { what: "no key", body: { name: "c1", cert: leaf.cert }, field: "key", message: /required/ },
    { what: "another certificate's key", body: { ...ok, key: other.key }, field: "key", message: /^key: does not match the certificate's public key$/ },
    { what: "garbage key", body: { ...ok, key: "not a key at all" }, field: "key", message: /^key: expected a PEM private key .*got no PEM block$/ },
    { what: "a certificate as key", body: { ...ok, key: other.cert }, field: "key", message: /got a PEM "CERTIFICATE" block/ },
    { what: "an encrypted key (PKCS#8)", body: { ...ok, key: encryptedKey(leaf.key) }, field: "key", message: /encrypted with a passphrase/ },
    { what: "an encrypted key (legacy)", body: { ...ok, key: encryptedKey(leaf.key, true) }, field: "key", message: /encrypted with a passphrase/ },
    { what: "a 1024-bit key", body: { ...ok, cert: short.cert, key: short.key }, field: "key", message: /1024 bits is too short: at least 2048/ },
    { what: "expired", body: { ...ok, cert: expired.cert, key: expired.key }, field: "cert", message: /^cert: expired on \S+ \(valid from \S+ to \S+\)$/ },
    { what: "not yet valid", body: { ...ok, cert: future.cert, key: future.key }, field: "cert", message: /^cert: is not valid yet: valid from \S+ to \S+$/ },
    { what: "chain in the wrong order", body: { ...ok, chain: root.cert + intermediate.cert }, field: "chain[0]", message: /^chain\[0\]: "CN=drover test root, O=drover" does not sign the certificate \(whose issuer is "CN=drover test intermediate, O=drover"\); chain\[1\] does/ },
    { what: "chain with a stranger", body: { ...ok, chain: intermediate.cert + other.cert }, field: "chain[1]", message: /^chain\[1\]: "CN=other\.example\.com" does not sign chain\[0\]/ },
    { what: "chain of garbage", body: { ...ok, chain: "nope" }, field: "chain", message: /got no PEM block/ },
    { what: "a key in the chain", body: { ...ok, chain: intermediate.cert + leaf.key }, field: "chain[1]", message: /got a PEM "PRIVATE KEY" block/ },
    { what: "expired in the chain", body: { ...ok, chain: expired.cert }, field: "chain[0]", message: /expired on/ },
    { what: "bad name", body: { ...ok, name: "Www" }, field: "name", message: /lowercase/ },
    { what: "unknown field", body: { ...ok, chian: chain }, field: "chian", message: /did you mean chain/ },
  ];
  for (const c of cases) {
    const found = problems(c.body);
    t.equal(found[0]?.[0], c.field, `${c.what}: field`);
    t.match(found[0]?.[1], c.message, `${c.what}: message`);
    t.notOk(found.some(([, m]) => leaksKey(m, leaf.key) || leaksKey(m, other.key)), `${c.what}: no key in the message`);
  }
  t.same(problems(ok, [{ name: "c1", state: "active" } as CertificateRecord]).map(([f]) => f), ["name"], "a taken name");
  t.same(problems(ok, [{ name: "c1", state: "removed" } as CertificateRecord]), [], "a removed certificate's name is free");
  const both = problems({ name: "c1", cert: "x", key: "y" }).map(([f]) => f);
  t.same(both, ["cert", "key"], "cert and key problems together, in one answer");
  t.ok(rsaKeyPem(2048).includes("PRIVATE KEY"));
});

t.test("PUT: rotation keeps the name, needs cert and key", async (t) => {
  const current = { ...validateCertificateCreate({ name: "www", cert: leaf.cert, key: leaf.key }, [], now), id: "c1", envId: "e", state: "active", createdAt: "", rev: 1 } as CertificateRecord;
  const next = makeCert({ cn: "www.example.com", sans: ["www.example.com"], issuer: intermediate });
  const rotated = validateCertificateUpdate({ cert: next.cert, key: next.key, chain }, current, now);
  t.equal(rotated.name, "www");
  t.not(rotated.fingerprint, current.fingerprint, "a new fingerprint");
  const refusal = (body: unknown) => { try { validateCertificateUpdate(body, current, now); return undefined; } catch (err: any) { return `${err.field}: ${err.message}`; } };
  t.match(refusal({ name: "other", cert: next.cert, key: next.key }), /^name: name: expected the certificate's name www/);
  t.match(refusal({ cert: next.cert }), /^key: key: required/);
  t.match(refusal({ cert: next.cert, key: leaf.key }), /^key: key: does not match/);
});
