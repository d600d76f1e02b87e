/**
 * Test certificates made with node-forge: a self-signed certificate (RSA 2048, native key
 * generation) for a common name and extra DNS names, PEM-encoded as drover stores them.
 */
import * as forge from "node-forge";
import type { CertificateMaterial } from "../../../../runtime/protocol/model";

export interface TestCertificate extends CertificateMaterial {
  commonName: string;
  /** SHA-256 of the DER, hex (to tell which certificate a TLS server presented). */
  fingerprint: string;
}

export function selfSigned(commonName: string, altNames: string[] = []): TestCertificate {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = forge.util.bytesToHex(forge.random.getBytesSync(9)).replace(/^[89a-f]/, "1");
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const attrs = [{ name: "commonName", value: commonName }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "subjectAltName", altNames: [commonName, ...altNames].map((value) => ({ type: 2, value })) },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes();
  const md = forge.md.sha256.create();
  md.update(der);
  return {
    commonName,
    cert: forge.pki.certificateToPem(cert),
    key: forge.pki.privateKeyToPem(keys.privateKey),
    fingerprint: md.digest().toHex(),
  };
}
