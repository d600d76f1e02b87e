import t from "tap";
import type { HostDesiredState, HostObservedState } from "../../../runtime/protocol/model";
import { setDesiredScript } from "../../../runtime/store/lua/set-desired";
import { runScript, scriptReply } from "../../../runtime/store/scripts";
import { createEnv, droverError, host, storeFixture, streamEntries } from "./store-fixture";

// Per-host documents: desired state with its generation and nudges, observed state, heartbeats.

const desired = (hostId: string, generation: number, image = "nginx"): HostDesiredState => ({
  hostId, generation,
  instances: [{ id: "i1", name: "web-nginx-1", serviceId: "sv1", stackId: "s1", spec: { image, env: {}, ports: [], labels: {}, restartPolicy: { name: "no" } } }],
});

t.test("setDesired: the generation only grows, and every write nudges the agent", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  await f.store.write("e1", { put: [{ kind: "host", record: host("e1", "h1") }] });

  t.equal(await f.store.setDesired("e1", desired("h1", 99), {}), 1, "first document: generation 1 whatever the caller sent");
  t.equal(await f.store.setDesired("e1", desired("h1", 0, "redis"), {}), 2, "second: 2");
  t.equal(await f.store.setDesired("e1", desired("h1", 2), {}), 3, "third: 3");
  t.same(await f.store.getDesired("e1", "h1"), desired("h1", 3), "the stored document, with its generation and instances intact");

  const nudges = await streamEntries(f.redis, f.keys.host("e1", "h1").nudges);
  t.same(nudges.map((n) => n.fields), [1, 2, 3].map((g) => ({ type: "desired", generation: String(g) })), "one nudge per write");
  t.equal(await f.store.getDesired("e1", "h2"), undefined, "no document for an unknown host");
});

t.test("setDesired refuses unknown hosts and environments", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  t.equal((await droverError(f.store.setDesired("e1", desired("h404", 0), {}), "NotFound")).field, "hostId", "unknown host");
  t.equal((await droverError(f.store.setDesired("e404", desired("h1", 0), {}), "NotFound")).field, "envId", "unknown environment");
  t.equal(await f.redis.exists(f.keys.host("e1", "h404").desired, f.keys.host("e1", "h404").nudges), 0, "no keys created");
});

t.test("the setDesired script refuses a text that is not an object, or that carries its generation, and keeps the stored one", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  await f.store.write("e1", { put: [{ kind: "host", record: host("e1", "h1") }] });
  await f.store.setDesired("e1", desired("h1", 0), {});
  const env = f.keys.env("e1"), h = f.keys.host("e1", "h1");
  const call = (body: string) => runScript(f.redis, setDesiredScript, [env.rev, env.hosts, env.leader, h.desired, h.nudges], ["h1", body, ""]).then(scriptReply);
  for (const body of ['[1,2]', '"text"', '{"hostId":"h1","instances":[],"generation":7}', '{"hostId":"h1","instances":[]']) {
    t.same(await call(body), { status: "BAD_RECORD", details: ["expected an object without generation"] }, `refused: ${body}`);
  }
  t.same(await f.store.getDesired("e1", "h1"), desired("h1", 1), "the stored document as it was");
  t.same((await call('{"hostId":"h1","instances":[]}')).status, "OK", "an object without generation is taken");
});

t.test("getObserved parses what the agent wrote", async (t) => {
  const f = storeFixture(t);
  const observed: HostObservedState = {
    hostId: "h1", appliedGeneration: 4, reportedAt: "2024-01-01T00:00:00.000Z",
    instances: { i1: { state: "running", containerId: "abc", restartCount: 0 } },
  };
  t.equal(await f.store.getObserved("e1", "h1"), undefined, "absent before the agent reports");
  await f.redis.set(f.keys.host("e1", "h1").observed, JSON.stringify(observed));
  t.same(await f.store.getObserved("e1", "h1"), observed);
});

t.test("heartbeats: the PTTL of each host's heartbeat key, in one round trip", async (t) => {
  const f = storeFixture(t);
  await f.redis.set(f.keys.host("e1", "h1").heartbeat, "beat", "PX", 30_000);
  await f.redis.set(f.keys.host("e1", "h3").heartbeat, "beat");
  const ttls = await f.store.heartbeats("e1", ["h1", "h2", "h3"]);
  t.ok(ttls.h1! > 25_000 && ttls.h1! <= 30_000, `h1 alive with its TTL (${ttls.h1})`);
  t.ok("h2" in ttls && ttls.h2 === undefined, "h2 without a heartbeat key: undefined");
  t.equal(ttls.h3, Infinity, "a key without TTL: Infinity");
  t.same(await f.store.heartbeats("e1", []), {}, "no hosts, no round trip");
});
