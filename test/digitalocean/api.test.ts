import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { doApi, DoApiError } from "../../provider/drivers/digitalocean/api";
import { makeKeyPair } from "../../provider/drivers/digitalocean/keypair";
import { DEFAULT_RETRY, rateLimitWait, retryDelay } from "../../provider/drivers/digitalocean/retry";
import { digitalOceanFailures } from "../../provider/drivers/digitalocean/check";
import { FakeDigitalOcean, md5Fingerprint } from "./fake-api";
import type { LabHost } from "../lab/host";

// The DigitalOcean client against the fake API without lab hosts (droplets here sit on
// stand-in hosts that only have an ssh dir): retries, pagination, error bodies, the token
// kept out of messages, the per-host key pair, and the input check.

const TOKEN = "dop_v1_" + "f".repeat(64);

function standInHosts(n: number): LabHost[] {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "fake-do-"));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  return Array.from({ length: n }, (_, i) => {
    const dir = path.join(base, `h${i + 1}`);
    fs.mkdirSync(path.join(dir, "ssh"), { recursive: true });
    return { name: `h${i + 1}`, dir, underlayIp: `192.0.2.${11 + i}`, exec: async () => ({ code: 0, stdout: "", stderr: "" }) } as unknown as LabHost;
  });
}

t.test("retry policy: 429 waits for ratelimit-reset, 5xx and timeouts back off, 4xx are final", async (t) => {
  const now = 1_700_000_000_000;
  t.equal(rateLimitWait({ "ratelimit-reset": String(now / 1000 + 3) }, now), 3000, "ratelimit-reset is epoch seconds");
  t.equal(rateLimitWait({ "retry-after": "2" }, now), 2000, "retry-after wins");
  const r0 = () => 0;
  t.equal(retryDelay({ status: 429, headers: { "ratelimit-reset": String(now / 1000 + 2) } }, 1, DEFAULT_RETRY, now, r0), 2000);
  t.equal(retryDelay({ status: 429, headers: { "ratelimit-reset": String(now / 1000 + 3600) } }, 1, DEFAULT_RETRY, now, r0), undefined, "an hour's wait is a failure, not a wait");
  t.equal(retryDelay({ status: 503 }, 1, DEFAULT_RETRY, now, r0), DEFAULT_RETRY.baseDelayMs / 2);
  t.equal(retryDelay({ status: 500 }, 4, DEFAULT_RETRY, now, r0), DEFAULT_RETRY.baseDelayMs * 4, "doubles per attempt");
  t.equal(retryDelay({ code: "ECONNABORTED" }, 1, DEFAULT_RETRY, now, r0), DEFAULT_RETRY.baseDelayMs / 2, "a timeout is retried");
  for (const status of [401, 404, 422]) t.equal(retryDelay({ status }, 1, DEFAULT_RETRY, now, r0), undefined, `${status} is final`);
  t.equal(retryDelay({ status: 500 }, DEFAULT_RETRY.attempts, DEFAULT_RETRY, now, r0), undefined, "the budget ends");
});

t.test("the client through digitalocean-js against the fake API", async (t) => {
  const fake = await new FakeDigitalOcean(TOKEN, standInHosts(3), 2).start();
  t.teardown(() => fake.stop());
  const api = doApi(TOKEN, { url: fake.url, policy: { ...DEFAULT_RETRY, baseDelayMs: 20 } });

  const pair = await makeKeyPair("drover-host:e1:a");
  t.match(pair.privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----/, "an OpenSSH private key");
  t.match(pair.publicKey, /^ssh-ed25519 AAAA\S+ drover-host:e1:a$/, "an OpenSSH public key line (Ed25519: cheap to make, see keypair.ts)");
  t.equal(pair.md5Fingerprint, md5Fingerprint(pair.publicKey), "the fingerprint is DigitalOcean's MD5 form");
  const { utils } = require("ssh2");
  t.notOk(utils.parseKey(pair.privateKey) instanceof Error, "ssh2 parses the private key");
  // ssh2's generator mangles about 1 pair in 256 (a public key starting with a zero byte): none may get out.
  const unusable = [];
  for (let i = 0; i < 1500; i++) {
    const p = await makeKeyPair(`k${i}`);
    if (utils.parseKey(p.privateKey) instanceof Error || utils.parseKey(p.publicKey) instanceof Error) unusable.push(p.publicKey);
  }
  t.same(unusable, [], "1,500 pairs in a row all parse, private and public halves");

  // 429 then 500 on the key's POST: both waited out.
  fake.failNext("POST", /^\/v2\/account\/keys$/, 429);
  fake.failNext("POST", /^\/v2\/account\/keys$/, 500);
  const key = await api.createKey("drover-host:e1:a", pair.publicKey, pair.md5Fingerprint);
  t.equal(key.fingerprint, pair.md5Fingerprint, "key registered after a 429 and a 500");
  t.same(fake.requests.filter((r) => r.method === "POST").map((r) => r.status), [429, 500, 201], "three tries");
  const again = await api.createKey("drover-host:e1:a", pair.publicKey, pair.md5Fingerprint);
  t.equal(again.id, key.id, "a repeated POST (422 already in use) adopts drover's own key");

  // Pagination: five keys, two a page.
  for (let i = 0; i < 4; i++) {
    const p = await makeKeyPair(`other-${i}`);
    await api.createKey(`other-${i}`, p.publicKey, p.md5Fingerprint);
  }
  t.equal((await api.keysNamed("drover-host:e1:a")).length, 1, "found on whichever page it is");
  t.ok(fake.requests.filter((r) => r.method === "GET" && r.path.startsWith("/v2/account/keys")).length >= 3, "three pages were read");

  // A droplet: create, wait is the driver's; list by tag across pages, delete.
  const names = ["a", "b", "c"];
  for (const name of names) {
    await api.createDroplet({ name, region: "fra1", size: "s-1vcpu-2gb", image: "debian-12-x64", ssh_keys: [key.id], tags: [`drover-host:e1:${name}`, "lab"] }, `drover-host:e1:${name}`);
  }
  t.same((await api.dropletsTagged("lab")).map((d) => d.name).sort(), names, "three droplets listed over two pages");
  const bad = await api.createDroplet({ name: "d", region: "mars1", size: "s-1vcpu-2gb", image: "debian-12-x64", ssh_keys: [], tags: [] }, "x").catch((e) => e);
  t.type(bad, DoApiError);
  t.match(bad.message, /POST \/droplets: 422 unprocessable_entity: Region is not available/, "DigitalOcean's error body in the message");
  t.equal(fake.droplets().length, 3, "the refused create made nothing");
  const none = await api.createDroplet({ name: "d", region: "fra1", size: "s-1vcpu-2gb", image: "debian-12-x64", ssh_keys: [], tags: [] }, "x").catch((e) => e);
  t.match(none.message, /droplet limit/, "an empty pool answers as an account at its droplet limit");
  for (const d of await api.dropletsTagged("lab")) await api.deleteDroplet(d.id);
  await api.deleteDroplet(123).then(() => t.pass("deleting a droplet that is gone is fine"));
  t.same(fake.droplets(), [], "all gone");

  // Wrong token: 401, said plainly, the token nowhere.
  const wrong = await doApi("dop_v1_wrong_token_value", { url: fake.url }).dropletsTagged("lab").catch((e) => e);
  t.match(wrong.message, /401 unauthorized: Unable to authenticate you\. \(check driver\.token/, "401 names the token input");
  t.notOk(wrong.message.includes("dop_v1_wrong_token_value"), "the token is not in the message");
});

t.test("digitalocean driver inputs: each bad field named", async (t) => {
  const fails = digitalOceanFailures({ type: "digitalocean", region: "Fra 1", size: 3, image: "centos-7", tags: ["ok", "a b"], vpcUuid: "x", monitoring: "yes", sshKeys: ["zz"] });
  t.same(fails.map((f) => f.property).sort(), ["driver.image", "driver.monitoring", "driver.region", "driver.size", "driver.sshKeys[0]", "driver.tags[1]", "driver.vpcUuid"].sort());
  t.match(fails.find((f) => f.property === "driver.image")!.reason, /expected one of ubuntu-22-04-x64, ubuntu-24-04-x64, debian-12-x64, got "centos-7"/);
  t.same(digitalOceanFailures({ type: "digitalocean", region: "fra1", size: "s-1vcpu-2gb", image: "ubuntu-24-04-x64" }), [], "a good one passes");
  t.same(digitalOceanFailures({ type: "digitalocean" }).map((f) => f.property), ["driver.region", "driver.size", "driver.image"], "required fields");
});
