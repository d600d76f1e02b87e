import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { freePort } from "../support/free-port";
import { waitFor } from "../support/wait";
import { AgentProcess } from "./support/agent-process";
import { AgentWorld } from "./support/agent-world";
import { containersOfHost, desiredDoc, instance } from "./support/docker-fixture";
import { aclUserName } from "./support/fake-registration";

// Registration edge cases: an unreachable server, credentials Redis refuses (at start and
// mid-run), a bad token; plus the periodic resync that catches a lost nudge.
let world: AgentWorld;
let agent: AgentProcess;
let hostId: string;

t.before(async () => {
  const port = await freePort();
  world = await AgentWorld.create(t, undefined, { port, resyncIntervalMs: 1_000 }, false);
  world.server.url = `http://127.0.0.1:${port}`;
});

t.test("registration is retried while the server is unreachable", async (t) => {
  agent = world.startAgent();
  const line = await agent.waitForLine("retry log line", (l) => l.msg === "registration server unreachable, retrying");
  t.match(line, { level: "warn", url: `${world.server.url}/v1/register` });
  await world.server.start();
  hostId = await world.waitRegistered(agent);
  await agent.waitForLine("running", (l) => l.msg === "agent running");
  t.pass("registered once the server came up");
});

t.test("a desired document written without a nudge is applied by the periodic resync", async (t) => {
  await world.writeDesired(desiredDoc(hostId, 1, [instance(world.prefix, "i-a", "a-1")]), false);
  const o = await world.waitObserved(1, (o) => o.instances["i-a"]?.state === "running", 15_000);
  t.equal(o.appliedGeneration, 1);
});

t.test("saved credentials refused at start (WRONGPASS): registers again, same host, containers untouched", async (t) => {
  const before = (await containersOfHost(world.docker, hostId))[0];
  const startedAt = (await world.docker.getContainer(before.Id).inspect()).State.StartedAt;
  await agent.kill("SIGTERM");
  await world.admin.call("ACL", "SETUSER", aclUserName(world.envId, hostId), "resetpass", ">rotated-elsewhere");
  agent = world.startAgent();
  await agent.waitForLine("refusal logged", (l) => l.msg === "saved credentials refused by redis: registering again");
  t.equal(await world.waitRegistered(agent, 2), hostId, "same host id for the same machine");
  await waitFor(async () => (await world.admin.pttl(world.keys(hostId).heartbeat)) > 0, { what: "heartbeat with the new credentials" });
  const after = await containersOfHost(world.docker, hostId);
  t.equal(after.length, 1);
  t.equal(after[0].Id, before.Id, "same container");
  t.equal((await world.docker.getContainer(before.Id).inspect()).State.StartedAt, startedAt, "not restarted");
});

t.test("credentials revoked mid-run: the agent registers again without touching containers", async (t) => {
  const before = (await containersOfHost(world.docker, hostId))[0];
  const from = agent.lines.length;
  // DELUSER also drops the user's connections; the agent's reconnect then meets WRONGPASS.
  await world.admin.call("ACL", "DELUSER", aclUserName(world.envId, hostId));
  await agent.waitForLine("re-registration", (l) => l.msg.startsWith("redis refused this host's credentials"), 20_000, from);
  await world.waitRegistered(agent, 3);
  await agent.waitForLine("running again", (l) => l.msg === "agent running", 20_000, from);
  const rev = await world.admin.get(world.keys(hostId).desired);
  await world.writeDesired({ ...JSON.parse(rev!), generation: 2 });
  await world.waitObserved(2, (o) => o.instances["i-a"]?.state === "running", 15_000);
  t.equal((await containersOfHost(world.docker, hostId))[0].Id, before.Id, "same container throughout");
  t.ok(agent.running);
});

t.test("a refused registration token ends the agent with a clear error", async (t) => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-agent-state-"));
  t.teardown(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  // Through the environment variables this time.
  const bad = new AgentProcess(["--state-dir", stateDir, "--hostname", "bad-token"], { DROVER_URL: world.server.url, DROVER_TOKEN: "wrong", DROVER_HOST_LABELS: "zone=b" });
  world.agents.push(bad);
  const exit = await bad.exited;
  t.equal(exit.code, 1, "exit 1");
  const line = bad.lines.find((l) => l.msg === "agent failed");
  t.match(line, { level: "error", code: "Unauthorized", reason: /HTTP 401: unknown registration token/ });
  t.notOk(fs.existsSync(path.join(stateDir, "identity.json")), "nothing saved");
});

t.test("--labels syntax errors name the flag and exit 2", async (t) => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-agent-state-"));
  t.teardown(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  const bad = new AgentProcess(["--labels", "zone=a,oops", "--state-dir", stateDir]);
  world.agents.push(bad);
  const exit = await bad.exited;
  t.equal(exit.code, 2);
  t.match(bad.tail(), /--labels: "oops" is not key=value/);
});
