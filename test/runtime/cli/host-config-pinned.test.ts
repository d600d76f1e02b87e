import { execFileSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { fetchHostConfig } from "../../../runtime/cli/host-config";
import { createCa, issueCertificate } from "../../../runtime/tls/ca";

// `drover ssh`'s config download trusts the CA `drover login` pinned, and only it: the
// archive holds the host's private key. A real TLS server with a certificate from a test CA
// serves an archive; with that CA the download unpacks it, with none (the system's roots)
// or another CA it is refused as untrusted and nothing is written.

t.test("the host config download pins the CA", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "host-config-pinned-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, "src", "web1"), { recursive: true });
  fs.writeFileSync(path.join(dir, "src", "web1", "ssh_config"), "Host web1\n");
  const archive = execFileSync("tar", ["-czf", "-", "-C", path.join(dir, "src"), "web1"]);

  const made = createCa("test CA");
  const ca = { ...made, fingerprint: "" };
  const leaf = issueCertificate(ca, { commonName: "127.0.0.1", names: ["127.0.0.1"], usage: ["server"], days: 1 });
  const seen: string[] = [];
  const server = https.createServer({ cert: leaf.cert, key: leaf.key }, (req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
    res.writeHead(200, { "content-type": "application/gzip" }).end(archive);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const home = path.join(dir, "home");
  const unpinned = await fetchHostConfig(url, "drk_key", "1a1", "1h1", home).catch((e: Error) => e);
  t.match((unpinned as Error).message, /the server's certificate is not trusted .*drover login/, "no pinned CA: refused, saying what to do");
  const otherCa = createCa("another CA").cert;
  const wrong = await fetchHostConfig(url, "drk_key", "1a1", "1h1", home, otherCa).catch((e: Error) => e);
  t.match((wrong as Error).message, /not trusted/, "another CA: refused");
  t.notOk(fs.existsSync(path.join(home, ".drover", "hosts", "web1")), "nothing unpacked from a refused download");
  t.same(seen, [], "no request reached the server over an untrusted connection");

  const got = await fetchHostConfig(url, "drk_key", "1a1", "1h1", home, made.cert);
  t.equal(got, path.join(home, ".drover", "hosts", "web1"), "with the pinned CA: unpacked");
  t.equal(fs.readFileSync(path.join(got, "ssh_config"), "utf8"), "Host web1\n", "the archive's bytes, not a text decoding of them");
  t.same(seen, ["GET /v1/environments/1a1/hosts/1h1/config Bearer drk_key"], "one GET with the key");
});
