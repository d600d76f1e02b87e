import * as fs from "fs";
import * as net from "net";
import t from "tap";
import Redis from "ioredis";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import type { RegisterResponse } from "../../runtime/protocol/agent-protocol";
import type { DesiredInstance } from "../../runtime/protocol/model";
import type { SavedIdentity } from "../../agent/identity";
import { specHash } from "../../agent/spec-hash";
import { freePort } from "../support/free-port";
import { waitFor } from "../support/wait";
import { AgentProcess } from "./support/agent-process";
import { AgentWorld } from "./support/agent-world";
import { containersOfHost, desiredDoc, instance, nameOf, spec, testImage } from "./support/docker-fixture";

// One agent's life against the real dockerd and the shared Redis, step by step: the steps
// share the agent, so they run in order and each starts from where the previous one left off.
let world: AgentWorld;
let agent: AgentProcess;
let hostId: string;
let webPort: number;
const ids = { web1: "i-web-1", web2: "i-web-2", worker1: "i-worker-1", cache1: "i-cache-1", taken1: "i-taken-1" };
let gen1: DesiredInstance[];
let gen2: DesiredInstance[];
const foreign: Record<string, { id: string; startedAt: string }> = {};

async function inspectByName(name: string) {
  return world.docker.getContainer(name).inspect().catch(() => undefined);
}

function tcpConnects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => { s.destroy(); resolve(true); });
    s.once("error", () => resolve(false));
  });
}

t.before(async () => {
  world = await AgentWorld.create(t);
  // Containers drover did not create, with the test's name prefix: one beside, one holding a name drover will want.
  for (const name of ["foreign-1", "taken-1"]) {
    const c = await world.docker.createContainer({ name: `${world.prefix}${name}`, Image: testImage, Cmd: ["sleep", "3600"] });
    await c.start();
    const info = await c.inspect();
    foreign[name] = { id: info.Id, startedAt: info.State.StartedAt };
  }
});

t.test("registers with its labels, saves its identity (0600) and heartbeats", async (t) => {
  agent = world.startAgent(["--labels", "zone=a,io.rancher.host.os=plan9"]);
  hostId = await world.waitRegistered(agent);
  const request = world.server.requests[0];
  t.match(request.labels, { zone: "a", "io.rancher.host.os": "linux", "io.drover.host.hostname": `host-${world.suffix}` });
  t.ok(request.labels["io.rancher.host.docker_version"], "docker version label");
  t.ok(request.labels["io.rancher.host.linux_kernel_version"], "kernel version label");
  t.match(request, { agentVersion: "0.1.0", hostname: `host-${world.suffix}` });
  t.match(request.machineId, /^[0-9a-f]{32}$/);
  await agent.waitForLine("override warning", (l) => l.level === "warn" && l.label === "io.rancher.host.os");

  const saved = await waitFor(() => fs.existsSync(world.identityFile()) && (JSON.parse(fs.readFileSync(world.identityFile(), "utf8")) as SavedIdentity), { what: "identity file" });
  t.equal(saved.response.hostId, hostId);
  t.equal(fs.statSync(world.identityFile()).mode & 0o777, 0o600, "identity file is 0600");

  const keys = world.keys(hostId);
  const beat = await waitFor(() => world.admin.get(keys.heartbeat), { what: "heartbeat key", timeoutMs: 15_000 });
  t.match(JSON.parse(beat), { agentVersion: "0.1.0", at: /^\d{4}-/ });
  const ttl = await world.admin.pttl(keys.heartbeat);
  t.ok(ttl > 0 && ttl <= 3_000, `heartbeat has a TTL (${ttl} ms)`);
});

t.test("applies a desired document with 3 instances and reports observed", async (t) => {
  webPort = await freePort();
  gen1 = [
    instance(world.prefix, ids.web1, "web-1", spec({ command: ["httpd", "-f", "-p", "80", "-h", "/"], ports: [{ containerPort: 80, hostPort: webPort, protocol: "tcp" }], labels: { team: "blue" } })),
    instance(world.prefix, ids.web2, "web-2"),
    instance(world.prefix, ids.worker1, "worker-1", spec({ env: { ROLE: "worker" }, restartPolicy: { name: "unless-stopped" } })),
  ];
  await world.writeDesired(desiredDoc(hostId, 1, gen1));
  const observed = await world.waitObserved(1, (o) => Object.values(o.instances).filter((s) => s.state === "running").length === 3);
  t.equal(observed.appliedGeneration, 1);
  t.equal(observed.hostId, hostId);

  const containers = await containersOfHost(world.docker, hostId);
  t.same(containers.map(nameOf).sort(), gen1.map((i) => i.name).sort(), "exactly the 3 desired containers");
  for (const i of gen1) {
    const info = (await inspectByName(i.name))!;
    t.equal(info.State.Running, true, `${i.name} running`);
    t.match(info.Config.Labels, {
      [containerLabels.managed]: "true", [containerLabels.host]: hostId, [containerLabels.env]: world.envId,
      [containerLabels.instance]: i.id, [containerLabels.specHash]: specHash(i.spec), [containerLabels.service]: i.serviceId,
    }, `${i.name} labels`);
    t.match(observed.instances[i.id], { state: "running", containerId: info.Id, startedAt: info.State.StartedAt, restartCount: 0 });
  }
  const web = (await inspectByName(gen1[0].name))!;
  t.equal(web.Config.Labels.team, "blue", "spec labels are on the container");
  t.same(web.HostConfig.PortBindings, { "80/tcp": [{ HostIp: "", HostPort: String(webPort) }] });
  t.equal(web.HostConfig.RestartPolicy?.Name, "always", "Docker's own restart policy");
  t.ok(await waitFor(() => tcpConnects(webPort), { what: `published port ${webPort}` }), "published port answers");
  t.ok((await inspectByName(gen1[2].name))!.Config.Env.includes("ROLE=worker"), "env");

  const reports = await world.reports();
  t.ok(reports.some((r) => r.fields.type === "observed" && r.fields.generation === "1"), "XADD type=observed generation=1");
  const started = await waitFor(async () => {
    const seen = new Set((await world.reports()).filter((r) => r.fields.type === "instance" && r.fields.state === "running").map((r) => r.fields.id));
    return gen1.every((i) => seen.has(i.id)) && seen;
  }, { what: "instance start reports" });
  t.equal(started.size, 3, "XADD type=instance state=running for each start");
});

t.test("converges on a new document: one removed, one image changed, one added", async (t) => {
  const v2 = `v2-${world.suffix}`;
  await world.docker.getImage(testImage).tag({ repo: testImage, tag: v2 });
  world.extraCleanup.push(() => world.docker.getImage(`${testImage}:${v2}`).remove());
  const before = new Map((await containersOfHost(world.docker, hostId)).map((c) => [nameOf(c), c.Id]));

  gen2 = [gen1[0], instance(world.prefix, ids.web2, "web-2", spec({ image: `${testImage}:${v2}` })), instance(world.prefix, ids.cache1, "cache-1")];
  await world.writeDesired(desiredDoc(hostId, 2, gen2));
  const observed = await world.waitObserved(2, (o) => gen2.every((i) => o.instances[i.id]?.state === "running"));
  t.same(Object.keys(observed.instances).sort(), [ids.cache1, ids.web1, ids.web2]);

  const after = new Map((await containersOfHost(world.docker, hostId)).map((c) => [nameOf(c), c.Id]));
  t.same([...after.keys()].sort(), gen2.map((i) => i.name).sort(), "worker-1 removed, cache-1 added");
  t.equal(after.get(gen2[0].name), before.get(gen2[0].name), "unchanged web-1 kept its container");
  t.not(after.get(gen2[1].name), before.get(gen2[1].name), "web-2 recreated");
  const web2 = (await inspectByName(gen2[1].name))!;
  t.equal(web2.Config.Image, `${testImage}:${v2}`);
  t.equal(web2.Config.Labels[containerLabels.specHash], specHash(gen2[1].spec));
});

t.test("a container removed or stopped by hand comes back", async (t) => {
  const web1 = gen2[0];
  const old = (await inspectByName(web1.name))!.Id;
  const started = Date.now();
  await world.docker.getContainer(old).remove({ force: true });
  const back = await waitFor(async () => {
    const info = await inspectByName(web1.name);
    return info && info.Id !== old && info.State.Running && info;
  }, { what: `${web1.name} to be recreated`, timeoutMs: 15_000 });
  const took = Date.now() - started;
  // The resync period is 60 s: anything well under it came from the Docker event (about 0.4 s idle;
  // the bound leaves room for a loaded machine).
  t.ok(took < 10_000, `recreated in ${took} ms (Docker event, not the resync)`);
  t.equal(back.Config.Labels[containerLabels.instance], web1.id);

  // `docker stop` disables Docker's own restart: the agent starts it again (restart policy always).
  const web2 = gen2[1];
  const web2Id = (await inspectByName(web2.name))!.Id;
  await world.docker.getContainer(web2Id).stop({ t: 0 });
  const restarted = await waitFor(async () => {
    const info = await inspectByName(web2.name);
    return info && info.State.Running && info;
  }, { what: `${web2.name} to be started again`, timeoutMs: 15_000 });
  t.equal(restarted.Id, web2Id, "started, not recreated");
  await world.waitObserved(2, (o) => gen2.every((i) => o.instances[i.id]?.state === "running") && o.instances[web1.id].containerId === back.Id);
  const dies = (await world.reports()).filter((r) => r.fields.type === "instance" && r.fields.state === "exited");
  t.ok(dies.some((r) => r.fields.id === web1.id) && dies.some((r) => r.fields.id === web2.id), "XADD type=instance state=exited on die");
});

t.test("containers drover did not create are never touched, even one holding a desired name", async (t) => {
  const taken = instance(world.prefix, ids.taken1, "taken-1");
  await world.writeDesired(desiredDoc(hostId, 3, [...gen2, taken]));
  const observed = await world.waitObserved(3);
  t.match(observed.instances[ids.taken1], { state: "error", error: /did not create/ });
  for (const [name, was] of Object.entries(foreign)) {
    const info = (await inspectByName(`${world.prefix}${name}`))!;
    t.equal(info.Id, was.id, `${name}: same container`);
    t.equal(info.State.Running, true, `${name}: still running`);
    t.equal(info.State.StartedAt, was.startedAt, `${name}: never restarted`);
    t.notOk(info.Config.Labels?.[containerLabels.managed], `${name}: no drover labels`);
  }
  const all = await containersOfHost(world.docker, hostId);
  t.equal(all.length, 3, "no container made for the taken name");
});

t.test("the agent's Redis user reaches only its own host's keys", async (t) => {
  const saved = JSON.parse(fs.readFileSync(world.identityFile(), "utf8")) as SavedIdentity;
  const creds: RegisterResponse["redis"] = saved.response.redis;
  const other = world.keys("hother");
  await world.admin.set(other.desired, JSON.stringify(desiredDoc("hother", 1, [])));
  const url = new URL(creds.url);
  const client = new Redis({ host: url.hostname, port: Number(url.port), username: creds.username, password: creds.password,
    enableReadyCheck: false, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  t.teardown(() => client.disconnect());
  t.ok(await client.get(world.keys(hostId).desired), "own desired key readable");
  await t.rejects(client.get(other.desired), /NOPERM/, "another host's desired key");
  await t.rejects(client.xrange(other.nudges, "-", "+"), /NOPERM/, "another host's stream");
  await t.rejects(client.set(`${world.keyPrefix}:{${world.envId}}:rev`, "1"), /NOPERM/, "server keys");
  for (const cmd of [["FLUSHALL"], ["FLUSHDB"], ["KEYS", "*"], ["SCAN", "0"], ["CONFIG", "GET", "*"], ["FUNCTION", "FLUSH"], ["SCRIPT", "FLUSH"], ["DEL", world.keys(hostId).desired]]) {
    await t.rejects(client.call(cmd[0], ...cmd.slice(1)), /NOPERM/, `${cmd.join(" ")} refused`);
  }
});

t.test("a large environment's document stretches the heartbeat; a bad cadence is refused; none brings back the registration's", async (t) => {
  const keys = world.keys(hostId);
  const current = [...gen2, instance(world.prefix, ids.taken1, "taken-1")];
  const containers = async () => (await containersOfHost(world.docker, hostId)).map((c) => c.Id).sort();
  const before = await containers();

  const from = agent.lines.length;
  await world.writeDesired({ ...desiredDoc(hostId, 4, current), heartbeat: { intervalMs: 1_000, ttlMs: 20_000 } });
  await agent.waitForLine("cadence followed", (l) => l.msg === "heartbeat cadence changed" && l.ttlMs === 20_000, 15_000, from);
  const stretched = await waitFor(async () => { const ttl = await world.admin.pttl(keys.heartbeat); return ttl > 3_000 && ttl; }, { what: "the heartbeat key with the stretched TTL" });
  t.ok(stretched > 3_000 && stretched <= 20_000, `the key lives by the document's TTL now (${stretched} ms; the registration's is 3,000)`);

  const bad = agent.lines.length;
  await world.writeDesired({ ...desiredDoc(hostId, 5, current), heartbeat: { intervalMs: 5_000, ttlMs: 4_000 } } as never);
  const refused = await agent.waitForLine("bad cadence refused", (l) => l.msg === "ignoring invalid desired state", 15_000, bad);
  t.match(refused.reason, /heartbeat: expected \{ intervalMs, ttlMs \}/, "the error names the field and what was expected");
  t.ok((await world.admin.pttl(keys.heartbeat)) > 3_000, "the last good document's cadence is kept");

  const plain = agent.lines.length;
  await world.writeDesired(desiredDoc(hostId, 6, current));
  await agent.waitForLine("registration's cadence back", (l) => l.msg === "heartbeat cadence changed" && l.ttlMs === 3_000, 15_000, plain);
  // The line comes just before the beat that sets the new TTL: wait for that beat's write.
  const back = await waitFor(async () => { const ttl = await world.admin.pttl(keys.heartbeat); return ttl > 0 && ttl <= 3_000 && ttl; }, { what: "the heartbeat key with the registration's TTL again" });
  t.ok(back > 0 && back <= 3_000, `no cadence in the document: the registration's again (${back} ms)`);
  await world.waitObserved(6);
  t.same(await containers(), before, "no container touched by any of it");
});

t.test("SIGKILLed agent: containers keep running; restarted agent reuses them without restarting any", async (t) => {
  const before = new Map<string, { id: string; startedAt: string }>();
  for (const c of await containersOfHost(world.docker, hostId)) {
    const info = (await inspectByName(c.Id))!;
    before.set(nameOf(c), { id: info.Id, startedAt: info.State.StartedAt });
  }
  const lastReport = (await world.reports()).at(-1)!.id;
  await agent.kill("SIGKILL");
  for (const [name, was] of before) t.equal((await inspectByName(was.id))?.State.Running, true, `${name} still running with the agent dead`);

  agent = world.startAgent();
  await agent.waitForLine("saved identity reused", (l) => l.msg === "using saved identity");
  await waitFor(async () => (await world.admin.xrange(world.keys(hostId).reports, `(${lastReport}`, "+")).some(([, f]) => f[0] === "type" && f[1] === "observed"),
    { what: "an observed report from the restarted agent", timeoutMs: 20_000 });
  t.equal(world.server.requests.length, 1, "did not register again");
  const after = await containersOfHost(world.docker, hostId);
  t.equal(after.length, before.size, "no duplicates");
  for (const c of after) {
    const info = (await inspectByName(c.Id))!;
    t.same({ id: info.Id, startedAt: info.State.StartedAt }, before.get(nameOf(c)), `${nameOf(c)}: same container, never restarted`);
  }
  const instances = after.map((c) => c.Labels[containerLabels.instance]);
  t.equal(new Set(instances).size, instances.length, "one container per instance");
});

t.test("teardown nudge: every container of the host removed, reported, identity deleted, exit 0", async (t) => {
  const password = (JSON.parse(fs.readFileSync(world.identityFile(), "utf8")) as SavedIdentity).response.redis.password;
  await world.admin.xadd(world.keys(hostId).nudges, "*", "type", "teardown");
  const exit = await waitFor(() => (agent.running ? undefined : agent.exited), { what: "agent to exit after teardown", timeoutMs: 30_000 });
  t.same(exit, { code: 0, signal: null }, "exit 0", { output: agent.tail() });
  t.same(await containersOfHost(world.docker, hostId), [], "no drover container left on the host");
  for (const [name, was] of Object.entries(foreign)) t.equal((await inspectByName(was.id))?.State.Running, true, `${name} untouched by teardown`);
  t.ok((await world.reports()).some((r) => r.fields.type === "teardown-done"), "XADD type=teardown-done");
  t.notOk(fs.existsSync(world.identityFile()), "identity file deleted");
  for (const a of world.agents) t.notOk(a.raw.some((l) => l.includes(password)), "the Redis password never appears in the log");
});
