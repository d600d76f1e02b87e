import Docker from "dockerode";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fetchHostConfig } from "../../runtime/cli/host-config";
import t from "tap";
import { FakeDigitalOcean } from "../digitalocean/fake-api";
import { labForTest, type Lab } from "../lab";
import { engineControlPlane } from "./engine-lab-fixture";
import { PulumiWorkspace } from "../support/pulumi-cli";
import { waitFor } from "../support/wait";

// The real engine, a fake DigitalOcean API whose droplets are lab hosts (test/digitalocean):
// one `up` of three digitalocean Hosts plus one whose droplet never leaves `new`, with a 429
// and two 500s injected on droplet creation and one droplet whose SSH refuses drover's key
// for a while. The three end active, the stuck one fails naming its droplet and leaves
// nothing; the Service lands by label; destroy leaves no droplet, key, or busy lab host.
const programDir = path.resolve(__dirname, "../../../test/fixtures/pulumi-drover-do");
const TOKEN = `dop_v1_${"0123456789abcdef".repeat(4)}`;

/** Runs `hostname` over ssh2 with `privateKey` as the only credential (no agent, no password). */
function sshHostname(address: string, privateKey: string): Promise<string> {
  const { Client } = require("ssh2");
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.on("error", reject);
    c.on("ready", () => c.exec("hostname", (err: Error | undefined, stream: any) => {
      if (err) return reject(err);
      let out = "";
      stream.on("data", (d: Buffer) => (out += d)).on("close", () => { c.end(); resolve(out.trim()); });
    }));
    c.connect({ host: address, port: 22, username: "root", privateKey, readyTimeout: 10_000 });
  });
}

/** The first `host.updated` event on the environment's stream whose host shows `configDownloadedAt`. */
async function downloadEvent(url: string, apiKey: string, envId: string, hostId: string): Promise<any> {
  const res = await fetch(`${url}/v1/environments/${envId}/events?lastEventId=0-0`, { headers: { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(15_000) });
  const reader = res.body!.getReader();
  let text = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return undefined;
      text += Buffer.from(value).toString();
      for (const block of text.split("\n\n")) {
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!/^event: host\.updated$/m.test(block) || !data) continue;
        const event = JSON.parse(data);
        if (event.id === hostId && event.resource?.configDownloadedAt) return event;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

async function webHosts(lab: Lab): Promise<string[]> {
  const out: string[] = [];
  for (const h of lab.hosts) {
    const list = await new Docker({ socketPath: h.dockerSocket }).listContainers({ all: true, filters: { label: ["io.drover.managed=true"] } });
    for (const _ of list) out.push(h.name);
  }
  return out.sort();
}

t.test("digitalocean Hosts through the Pulumi engine, droplets on lab hosts", async (t) => {
  t.setTimeout(600_000);
  const lab = await labForTest(t, { hosts: 4, sshd: true, name: "engine-do" });
  const cp = await engineControlPlane(t, lab);
  const fake = await new FakeDigitalOcean(TOKEN, lab.hosts, 2).start();
  t.teardown(() => fake.stop());

  const root = path.join(lab.runDir, "do");
  const zones = ["a", "a", "b"];
  const good = zones.map((zone, i) => ({ name: `drop${i + 1}`, labels: { zone }, installDir: path.join(root, `drop${i + 1}`, "opt") }));
  const stuck = { name: "stuck1", labels: { zone: "b" }, installDir: path.join(root, "stuck1", "opt"), waitTimeoutSeconds: 8 };
  fake.stuckNew.add("stuck1");
  fake.sshLateMs.set("drop2", 4000);
  fake.failNext("POST", /^\/v2\/droplets$/, 429, 1);
  fake.failNext("POST", /^\/v2\/droplets$/, 500, 2);

  const ws = new PulumiWorkspace(programDir, `do-${process.pid}-${Date.now()}`, { DIGITALOCEAN_API_URL: fake.url });
  t.teardown(() => ws.cleanup());
  const pulumi = ws.okFor(t);
  await ws.init({ "drover:endpoint": cp.url, envName: "do-engine", hosts: JSON.stringify([...good, stuck]) });
  await pulumi(["config", "set", "--secret", "drover:adminKey", cp.adminKey]);
  await pulumi(["config", "set", "--secret", "doToken", TOKEN]);

  let started = Date.now();
  const first = await ws.run(["up", "--yes", "--skip-preview"], 400_000);
  t.comment(`up (3 droplets + 1 stuck) took ${Date.now() - started} ms`);
  const said = first.stdout + first.stderr;
  t.not(first.code, 0, "up fails: one droplet never became active");
  t.match(said, /host stuck1[^\n]*droplet stuck1 \(id \d+\) is still "new" with no public address after 8 s/, "the error names the stuck droplet");
  const posts = fake.requests.filter((r) => r.method === "POST" && r.path === "/v2/droplets").map((r) => r.status);
  t.same(posts.filter((s) => s !== 202), [429, 500, 500], "the 429 and both 500s were answered");
  t.equal(posts.filter((s) => s === 202).length, 4, "and every create went through on a retry");
  t.same(fake.droplets().map((d) => d.name).sort(), ["drop1", "drop2", "drop3"], "the stuck droplet was destroyed by its failed create");
  t.equal(fake.keys().length, 3, "and its SSH key removed from the account");
  t.notOk(fake.keys().some((k) => k.name.endsWith(":stuck1")), "no key of stuck1 left");

  // Without the stuck host, and with the Service: everything converges.
  await pulumi(["config", "set", "hosts", JSON.stringify(good)]);
  await pulumi(["config", "set", "service", "true"]);
  started = Date.now();
  await pulumi(["up", "--yes", "--skip-preview"], 400_000);
  t.comment(`up (service) took ${Date.now() - started} ms`);
  const out = JSON.parse((await pulumi(["stack", "output", "--json", "--show-secrets"])).stdout);
  t.same(out.hosts.map((h: any) => `${h.name} ${h.state} ${h.region} ${h.size}`), ["drop1 active fra1 s-1vcpu-2gb", "drop2 active fra1 s-1vcpu-2gb", "drop3 active fra1 s-1vcpu-2gb"], "three active droplet hosts");
  for (const h of out.hosts) {
    const d = fake.droplets().find((x) => x.name === h.name)!;
    t.equal(h.dropletId, d.id, `${h.name}: droplet id output`);
    t.equal(h.publicIp, d.host!.underlayIp, `${h.name}: its address is the lab host's`);
    t.equal(h.sshFingerprint, fake.keys().find((k) => k.id === d.sshKeys[0])!.fingerprint, `${h.name}: the fingerprint of its own key`);
    t.ok(d.tags.includes(`drover-host:${out.envId}:${h.name}`) && d.tags.includes("lab"), `${h.name}: drover's tag and the user's`);
  }
  const late = fake.droplets().find((d) => d.name === "drop2")!.host!;
  t.match(fs.readFileSync(path.join(late.dir, "logs", "sshd.log"), "utf8"), /(Disconnected from|Connection closed by) authenticating user root|Failed publickey for root/,
    "drop2's sshd refused drover's key before its keys arrived, and the create waited it out");
  const zoneA = fake.droplets().filter((d) => d.name !== "drop3").map((d) => d.host!.name).sort();
  t.same(await webHosts(lab), zoneA, "two web containers, on the zone=a droplets only");

  // The config download: the archive's key alone opens the droplet; another environment's key gets 404.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "drover-do-home-"));
  t.teardown(() => fs.rmSync(home, { recursive: true, force: true }));
  const hostRecord = ((await cp.admin().ok("GET", `/v1/environments/${out.envId}/hosts?name=drop1`)).data as any[])[0];
  const dir = await fetchHostConfig(cp.url, out.apiKey, out.envId, hostRecord.id, home);
  t.same(fs.readdirSync(dir).sort(), ["id_rsa", "id_rsa.pub", "known_hosts", "ssh_config"], "the archive: key pair, ssh_config, known_hosts (no CA: this server runs without TLS)");
  t.equal(fs.statSync(path.join(dir, "id_rsa")).mode & 0o777, 0o600, "id_rsa is 0600");
  t.match(fs.readFileSync(path.join(dir, "ssh_config"), "utf8"), new RegExp(`Host drop1\\n  HostName ${out.hosts[0].publicIp}\\n  Port 22\\n  User root\\n[\\s\\S]*IdentitiesOnly yes`), "an ssh_config block for the host");
  const drop1 = fake.droplets().find((d) => d.name === "drop1")!;
  t.equal(await sshHostname(out.hosts[0].publicIp, fs.readFileSync(path.join(dir, "id_rsa"), "utf8")), drop1.host!.name, "an SSH session with the archive's key alone");
  const event = await downloadEvent(cp.url, out.apiKey, out.envId, hostRecord.id);
  t.ok(event, "the download is an event on the environment's stream");
  const other = await cp.createEnvironment("do-other");
  const foreign = await fetch(`${cp.url}/v1/environments/${out.envId}/hosts/${hostRecord.id}/config`, { headers: { authorization: `Bearer ${other.apiKey}` } });
  t.equal(foreign.status, 404, "another environment's key gets 404");
  const redis = cp.redis.client();
  let clear = 0;
  for (const key of await redis.keys("*")) {
    const type = await redis.type(key);
    const values = type === "string" ? [await redis.get(key)] : type === "hash" ? Object.values(await redis.hgetall(key)) : [];
    if (values.some((v) => v?.includes("PRIVATE KEY"))) clear++;
  }
  t.equal(clear, 0, "no private key in the clear in Redis (sealed with the environment's key)");

  const state = (await pulumi(["stack", "export"])).stdout;
  t.notOk(state.includes(TOKEN), "the token is not in plaintext in the state");
  t.notOk(state.includes("PRIVATE KEY"), "no private key in plaintext in the state");
  t.notOk(said.includes(TOKEN), "nor in the output of up");

  // What a crash could leave under a host's tag (a second droplet, a second key): refresh removes it.
  const tag = `drover-host:${out.envId}:drop1`;
  const strayKey = await fetch(`${fake.url}/account/keys`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name: tag, public_key: fs.readFileSync(path.join(dir, "id_rsa.pub"), "utf8").replace(/AAAA/, "AAAB") }) });
  t.equal(strayKey.status, 201, "a stray key with drop1's tag as its name");
  const stray = await fetch(`${fake.url}/droplets`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "drop1", region: "fra1", size: "s-1vcpu-2gb", image: "debian-12-x64", ssh_keys: [], tags: [tag] }) });
  t.equal(stray.status, 202, "a stray droplet with drop1's tag");
  await pulumi(["refresh", "--yes", "--skip-preview"], 300_000);
  t.same(fake.droplets().map((d) => d.name).sort(), ["drop1", "drop2", "drop3"], "refresh removed the stray droplet");
  t.equal(fake.keys().length, 3, "and the stray key");
  t.equal((await ws.run(["preview", "--expect-no-changes"])).code, 0, "and the program has nothing to change");

  started = Date.now();
  await pulumi(["destroy", "--yes", "--skip-preview"], 400_000);
  t.comment(`destroy took ${Date.now() - started} ms`);
  await fake.settled();
  t.same(fake.droplets(), [], "no droplet left on the account");
  t.same(fake.keys(), [], "no SSH key left on the account");
  await waitFor(() => fake.freeHosts().length === lab.hosts.length, { what: "every lab host back in the pool", timeoutMs: 30_000 });
  t.same(await webHosts(lab), [], "no drover container on any lab host");
  const aclUsers = (await redis.call("ACL", "USERS")) as string[];
  t.same(aclUsers.filter((u) => u.includes(out.envId)), [], "no Redis user of the environment's hosts is left");
  await pulumi(["stack", "rm", "--yes"]);
});
