import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { certificateFingerprint, issueCertificate, loadOrCreateCa } from "../../../runtime/tls/ca";
import { normalizeFingerprint } from "../../../runtime/protocol/fingerprint";

// The server's CA: made once per TLS dir, its key private, the certificates it issues
// verifiable with it and valid for the names asked.
t.test("the CA is made once per dir, its key 0600, and issues verifiable certificates", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-ca-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ca = await loadOrCreateCa(dir);
  t.equal((await loadOrCreateCa(dir)).fingerprint, ca.fingerprint, "same CA the second time");
  t.equal(fs.statSync(path.join(dir, "ca-key.pem")).mode & 0o777, 0o600, "key readable by its owner only");
  t.match(ca.fingerprint, /^sha256:[0-9a-f]{64}$/);
  t.equal(certificateFingerprint(ca.cert), ca.fingerprint);

  const leaf = issueCertificate(ca, { commonName: "api", names: ["10.1.2.3", "drover.example"], usage: ["server"], days: 30 });
  const x = new X509Certificate(leaf.cert);
  t.ok(x.verify(new X509Certificate(ca.cert).publicKey), "signed by the CA");
  t.ok(x.checkIP("10.1.2.3"), "valid for the address");
  t.ok(x.checkHost("drover.example"), "valid for the name");
  t.notOk(x.checkIP("10.1.2.4"), "not for another address");
  t.ok(leaf.key, "a key pair made when no public key is given");
});

t.test("fingerprints are accepted in drover's, openssl's and bare forms, and nothing else", async (t) => {
  const hex = "ab".repeat(32);
  t.equal(normalizeFingerprint(`sha256:${hex}`), `sha256:${hex}`);
  t.equal(normalizeFingerprint(hex.toUpperCase().match(/../g)!.join(":")), `sha256:${hex}`);
  t.equal(normalizeFingerprint(`SHA256=${hex}`), `sha256:${hex}`);
  t.equal(normalizeFingerprint("sha256:abc"), undefined);
  t.equal(normalizeFingerprint(`md5:${hex}`), undefined);
});
