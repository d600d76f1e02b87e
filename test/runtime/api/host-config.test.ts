/**
 * A cloud host's login at the API: PUT .../machineaccess (bad input refused naming the field,
 * nothing changed), stored sealed, shown nowhere; GET .../config is a tar.gz with the key,
 * ssh_config and known_hosts; another environment's key and a host without a machine get 404.
 */
import { gunzipSync } from "zlib";
import t from "tap";
import type { HostRecord } from "../../../runtime/protocol/model";
import { isSealed } from "../../../runtime/protocol/seal";
import { signedRegistration, newHostKey } from "../../support/host-identity";
import { makeKeyPair } from "../../../provider/drivers/digitalocean/keypair";
import { apiFixture, httpCall } from "./api-fixture";

/** name → content of each file in a tar. */
function untar(buf: Buffer): Record<string, { mode: number; text: string }> {
  const out: Record<string, { mode: number; text: string }> = {};
  for (let at = 0; at + 512 <= buf.length;) {
    const h = buf.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString().replace(/\0.*$/s, "");
    const size = parseInt(h.subarray(124, 136).toString().replace(/\0.*$/s, ""), 8);
    const mode = parseInt(h.subarray(100, 108).toString().replace(/\0.*$/s, ""), 8);
    out[name] = { mode, text: buf.subarray(at + 512, at + 512 + size).toString() };
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

t.test("machine access in, config archive out", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv("cfg");
  const other = await f.createEnv("cfg-other");
  const reg = await f.call("POST", "/v1/register", {
    body: signedRegistration({ token: env.registrationToken, machineId: "m-web1", hostname: "web1", agentVersion: "1", dockerVersion: "1", kernelVersion: "1", underlayIp: "198.18.0.11" }, newHostKey()),
  });
  t.equal(reg.status, 201, "a host registered");
  const hostId = reg.body.hostId;
  const base = `/v1/environments/${env.id}/hosts/${hostId}`;
  const pair = await makeKeyPair("drover-host:test:web1");
  const access = { user: "root", address: "203.0.113.7", port: 22, privateKey: pair.privateKey, publicKey: pair.publicKey, hostKey: `SHA256:${"A".repeat(43)}` };

  t.equal((await f.call("GET", `${base}/config`, { key: env.apiKey })).status, 404, "no machine drover made: 404");
  await f.unchanged([env.id], "a refused machine access", async () => {
    const bad = await f.call("PUT", `${base}/machineaccess`, { key: env.apiKey, body: { ...access, port: 70000, privateKey: "hunter2" } });
    t.equal(bad.status, 422, "bad input refused");
    t.match(bad.text, /port/, "naming the port");
    t.match(bad.text, /privateKey/, "and the key");
    t.notOk(bad.text.includes("hunter2"), "without quoting the key");
  });
  const put = await f.call("PUT", `${base}/machineaccess`, { key: env.apiKey, body: access });
  t.equal(put.status, 204, "stored");
  const stored = (await f.store.get(env.id, "host", hostId)) as HostRecord;
  t.ok(isSealed(stored.machineAccess!.privateKey), "the private key is sealed at rest");
  t.notOk(JSON.stringify(await f.dump()).includes("PRIVATE KEY"), "no private key in the clear anywhere in Redis");
  const shown = await f.call("GET", base, { key: env.apiKey });
  t.notOk(shown.text.includes("machineAccess") || shown.text.includes(pair.publicKey.split(" ")[1].slice(0, 40)), "GET host shows none of it");

  const res = await httpCall(f.url, "GET", `${base}/config`, { key: env.apiKey });
  t.equal(res.status, 200);
  t.equal(res.headers["content-type"], "application/gzip");
  const raw = await fetch(`${f.url}${base}/config`, { headers: { authorization: `Bearer ${env.apiKey}` } });
  const files = untar(gunzipSync(Buffer.from(await raw.arrayBuffer())));
  t.same(Object.keys(files).sort(), ["web1/id_rsa", "web1/id_rsa.pub", "web1/known_hosts", "web1/ssh_config"], "the archive's files");
  t.equal(files["web1/id_rsa"].text, pair.privateKey.endsWith("\n") ? pair.privateKey : `${pair.privateKey}\n`, "id_rsa is the key as given");
  t.equal(files["web1/id_rsa"].mode, 0o600, "mode 0600");
  t.match(files["web1/ssh_config"].text, /^Host web1\n  HostName 203\.0\.113\.7\n  Port 22\n  User root\n  IdentityFile ~\/\.drover\/hosts\/web1\/id_rsa\n  IdentitiesOnly yes/, "ssh_config");
  const after = (await f.store.get(env.id, "host", hostId)) as HostRecord;
  t.ok(after.configDownloadedAt, "the download is written to the host (an update event)");
  t.equal((await f.call("GET", `${base}/config`, { key: other.apiKey })).status, 404, "another environment's key: 404");
  t.equal((await f.call("PUT", `${base}/machineaccess`, { key: other.apiKey, body: access })).status, 404, "and it cannot set one either");
});
