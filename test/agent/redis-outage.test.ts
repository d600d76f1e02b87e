import t from "tap";
import { waitFor } from "../support/wait";
import { AgentProcess } from "./support/agent-process";
import { AgentWorld } from "./support/agent-world";
import { containersOfHost, desiredDoc, instance, nameOf } from "./support/docker-fixture";
import { RestartableRedis } from "./support/restartable-redis";

// Losing Redis must never stop or remove containers: the agent keeps the last desired state,
// keeps repairing from it, and resumes (heartbeat, observed, nudges) when Redis is back.
// The test's own redis-server, killed and restarted on the same port with its data.
const redis = new RestartableRedis();
let world: AgentWorld;
let agent: AgentProcess;
let hostId: string;

t.before(async () => {
  await redis.start();
  world = new AgentWorld(redis.url, { aclSave: true });
  t.teardown(async () => { await world.cleanup(); await redis.remove(); });
  await world.server.start();
});

t.test("runs two instances", async (t) => {
  agent = world.startAgent();
  hostId = await world.waitRegistered(agent);
  await world.writeDesired(desiredDoc(hostId, 1, [instance(world.prefix, "i-a", "a-1"), instance(world.prefix, "i-b", "b-1")]));
  await world.waitObserved(1, (o) => Object.values(o.instances).every((s) => s.state === "running") && Object.keys(o.instances).length === 2);
  t.equal((await containersOfHost(world.docker, hostId)).length, 2);
});

t.test("Redis down: containers keep running and a removed one still comes back", async (t) => {
  const from = agent.lines.length;
  const before = new Map((await containersOfHost(world.docker, hostId)).map((c) => [nameOf(c), c.Id]));
  await redis.kill();
  await agent.waitForLine("redis loss noticed", (l) => l.msg.startsWith("redis connection lost"), 15_000, from);
  await agent.waitForLine("heartbeat failure logged", (l) => l.msg === "heartbeat failed", 15_000, from);

  const a = `${world.prefix}a-1`;
  await world.docker.getContainer(before.get(a)!).remove({ force: true });
  const back = await waitFor(async () => {
    const info = await world.docker.getContainer(a).inspect().catch(() => undefined);
    return info && info.State.Running && info.Id !== before.get(a) && info;
  }, { what: `${a} recreated from the last desired state while Redis is down`, timeoutMs: 15_000 });
  t.ok(back, "recreated without Redis");
  const b = await world.docker.getContainer(before.get(`${world.prefix}b-1`)!).inspect();
  t.equal(b.State.Running, true, "the other container untouched");
  t.ok(agent.running, "agent still running");
});

t.test("agent restarted while Redis is down: keeps its saved identity, touches nothing", async (t) => {
  const before = (await containersOfHost(world.docker, hostId)).map((c) => c.Id).sort();
  await agent.kill("SIGKILL");
  agent = world.startAgent();
  const line = await agent.waitForLine("saved identity kept", (l) => l.msg === "redis unreachable: starting with the saved identity");
  t.match(line, { hostId });
  await agent.waitForLine("session running", (l) => l.msg === "agent running");
  t.same((await containersOfHost(world.docker, hostId)).map((c) => c.Id).sort(), before, "same containers");
  t.ok(agent.running);
});

t.test("Redis back: heartbeat and nudges resume, a new document converges", async (t) => {
  const from = agent.lines.length;
  await redis.start();
  await agent.waitForLine("reconnected", (l) => l.msg === "redis connected", 20_000, from);
  const keys = world.keys(hostId);
  await waitFor(async () => (await world.admin.pttl(keys.heartbeat)) > 0, { what: "heartbeat after the outage", timeoutMs: 15_000 });
  // The resync period is 60 s here, so converging within the deadline proves the nudge reader reconnected.
  const doc = desiredDoc(hostId, 2, [instance(world.prefix, "i-a", "a-1"), instance(world.prefix, "i-b", "b-1"), instance(world.prefix, "i-c", "c-1")]);
  await world.writeDesired(doc);
  const observed = await world.waitObserved(2, (o) => Object.keys(o.instances).length === 3 && Object.values(o.instances).every((s) => s.state === "running"), 20_000);
  t.equal(observed.appliedGeneration, 2);
  t.equal((await containersOfHost(world.docker, hostId)).length, 3);
  t.equal(world.server.requests.length, 1, "no re-registration after an outage");
});

t.test("SIGTERM stops the agent gracefully and leaves containers running", async (t) => {
  await agent.kill("SIGTERM");
  t.same(await agent.exited, { code: 0, signal: null }, "exit 0", { output: agent.tail() });
  const left = await containersOfHost(world.docker, hostId);
  t.equal(left.length, 3);
  t.ok(left.every((c) => c.State === "running"), "all still running");
});
