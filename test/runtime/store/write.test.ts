import t from "tap";
import type { StackRecord } from "../../../runtime/protocol/model";
import { RedisStore } from "../../../runtime/store/redis-store";
import {
  createEnv, droverError, host, instance, service, stack, storeFixture, streamEntries, type StoreFixture,
} from "./store-fixture";

// RedisStore.write: the generic batch script (revisions, events, name indexes, all-or-nothing).

async function state(f: StoreFixture, envId = "e1") {
  const env = f.keys.env(envId);
  return {
    rev: await f.redis.get(env.rev),
    stacks: await f.redis.hgetall(env.stacks),
    hosts: await f.redis.hgetall(env.hosts),
    services: await f.redis.hgetall(env.services),
    stackNames: await f.redis.hgetall(env.stackNames),
    hostNames: await f.redis.hgetall(env.hostNames),
    serviceNames: await f.redis.hgetall(env.serviceNames),
    events: await f.redis.xlen(env.events),
    reconcile: await f.redis.xlen(env.reconcile),
  };
}

t.test("a batch writes every record with the new rev and appends one event per record", async (t) => {
  const f = storeFixture(t);
  const env = await createEnv(f);
  t.equal(env.rev, 1, "a new environment is at rev 1");

  const rev = await f.store.write("e1", {
    put: [
      { kind: "host", record: host("e1", "h1") },
      { kind: "stack", record: stack("e1", "s1", "web") },
      { kind: "service", record: service("e1", "sv1", "s1", "nginx") },
      { kind: "instance", record: instance("e1", "i1", "sv1", "s1", "h1") },
    ],
  });
  t.equal(rev, 2, "the write returns the new rev");
  t.equal(await f.redis.get(f.keys.env("e1").rev), "2", "the env rev key holds it");
  for (const [kind, id] of [["host", "h1"], ["stack", "s1"], ["service", "sv1"], ["instance", "i1"]] as const) {
    t.equal((await f.store.get("e1", kind, id))?.rev, 2, `${kind} ${id} carries the rev set by the script`);
  }

  const events = await streamEntries(f.redis, f.keys.env("e1").events);
  t.same(events.map((e) => e.fields), [
    { type: "environment", action: "created", id: "e1", rev: "1" },
    { type: "host", action: "created", id: "h1", rev: "2" },
    { type: "stack", action: "created", id: "s1", rev: "2" },
    { type: "service", action: "created", id: "sv1", rev: "2" },
    { type: "instance", action: "created", id: "i1", rev: "2" },
  ], "one event per record, in batch order");
  const nudges = await streamEntries(f.redis, f.keys.env("e1").reconcile);
  t.same(nudges.map((e) => e.fields), [{ type: "write", rev: "2" }], "one reconcile nudge per batch");

  await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s1", "web", { description: "changed" }) }] });
  await f.store.write("e1", { remove: [{ kind: "instance", id: "i1" }] });
  const later = (await streamEntries(f.redis, f.keys.env("e1").events)).slice(5).map((e) => e.fields);
  t.same(later, [
    { type: "stack", action: "updated", id: "s1", rev: "3" },
    { type: "instance", action: "removed", id: "i1", rev: "4" },
  ], "updates and removals are told apart");
  t.equal(await f.store.get("e1", "instance", "i1"), undefined, "the removed record is gone");
});

t.test("an instance's event says created or updated from what Redis held, also when the batch touched it before", async (t) => {
  // Instances are not looked up before the write (HSET's answer decides): the same events as a lookup would give.
  const f = storeFixture(t);
  await createEnv(f);
  await f.store.write("e1", { put: [{ kind: "host", record: host("e1", "h1") }, { kind: "stack", record: stack("e1", "s1", "web") }, { kind: "service", record: service("e1", "sv1", "s1", "nginx") }] });
  const i = (id: string, extra = {}) => ({ kind: "instance" as const, record: { ...instance("e1", id, "sv1", "s1", "h1"), ...extra } });
  const creations = await f.redis.get(f.keys.env("e1").creationRun);
  const rev = await f.store.write("e1", { put: [i("i1"), i("i2")] });
  t.equal(await f.redis.get(f.keys.env("e1").creationRun), `${creations!.split(":")[0]}:${rev}`, "new instances only: the creation run goes on");
  const before = await f.redis.xlen(f.keys.env("e1").events);
  const next = await f.store.write("e1", { put: [i("i1", { state: "running" }), i("i3"), i("i3", { state: "running" }), i("i4")], remove: [{ kind: "instance", id: "i4" }, { kind: "instance", id: "i2" }] });
  t.not(await f.redis.get(f.keys.env("e1").creationRun), `${creations!.split(":")[0]}:${next}`, "an update breaks the creation run");
  await f.store.write("e1", { remove: [{ kind: "instance", id: "i3" }] });
  await f.store.write("e1", { put: [i("i3", { state: "stopped" })] });
  const events = (await streamEntries(f.redis, f.keys.env("e1").events)).slice(before).map((e) => `${e.fields.action} ${e.fields.id}`);
  t.same(events, [
    "updated i1", "created i3", "updated i3", "created i4", "removed i4", "removed i2",
    "removed i3", "created i3",
  ], "stored before: updated; new: created; put twice: created then updated; removed, then put again: created");
  t.equal((await f.store.get("e1", "instance", "i3"))?.state, "stopped", "the last put is what is stored");
  t.equal(await f.store.get("e1", "instance", "i4"), undefined, "put then removed in one batch: gone");
});

t.test("a batch that changes nothing keeps the rev and appends nothing", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  const before = await state(f);
  t.equal(await f.store.write("e1", { remove: [{ kind: "stack", id: "absent" }] }), 1, "returns the current rev");
  t.equal(await f.store.write("e1", {}), 1, "an empty batch too");
  t.same(await state(f), before, "no rev bump, no event, no nudge");
});

t.test("the rev grows by one per write, also under concurrent writers", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  const sequential = [];
  for (let i = 0; i < 5; i++) sequential.push(await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", `s${i}`) }] }));
  t.same(sequential, [2, 3, 4, 5, 6], "sequential writes");

  const writers = Array.from({ length: 4 }, () => f.connect());
  const revs = await Promise.all(Array.from({ length: 40 }, (_, i) =>
    new RedisStore(writers[i % 4], f.keys).write("e1", { put: [{ kind: "stack", record: stack("e1", `c${i}`) }] })));
  t.same([...revs].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i + 7), "every concurrent write got its own rev");
  const stacks = await f.store.list("e1", "stack");
  t.same(stacks.filter((s) => s.id.startsWith("c")).map((s) => s.rev).sort((a, b) => a - b), [...revs].sort((a, b) => a - b),
    "each record carries the rev its write returned");
});

t.test("a duplicate name is a Conflict on `name` and the batch writes nothing", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  await f.store.write("e1", {
    put: [
      { kind: "host", record: host("e1", "h1", "node-1") },
      { kind: "stack", record: stack("e1", "s1", "web") },
      { kind: "service", record: service("e1", "sv1", "s1", "nginx") },
    ],
  });
  const before = await state(f);

  const stackClash = await droverError(f.store.write("e1", {
    put: [
      { kind: "host", record: host("e1", "h2", "node-2") },
      { kind: "stack", record: stack("e1", "s2", "web") },
    ],
  }), "Conflict");
  t.equal(stackClash.field, "name", "the error names the field");
  t.equal(stackClash.httpStatus, 409);
  t.match(stackClash.detail, { kind: "stack", name: "web", existingId: "s1" });
  t.same(await state(f), before, "stack clash: nothing written (not even the valid host before it)");
  t.equal(await f.store.get("e1", "host", "h2"), undefined, "reading back: h2 absent");

  t.equal((await droverError(f.store.write("e1", { put: [{ kind: "host", record: host("e1", "h9", "node-1") }] }), "Conflict")).field, "name",
    "host names are unique");
  t.equal((await droverError(f.store.write("e1", { put: [{ kind: "service", record: service("e1", "sv2", "s1", "nginx") }] }), "Conflict")).field, "name",
    "service names are unique within a stack");
  t.equal((await droverError(f.store.write("e1", {
    put: [{ kind: "stack", record: stack("e1", "s7", "api") }, { kind: "stack", record: stack("e1", "s8", "api") }],
  }), "Conflict")).field, "name", "two new records of one batch with the same name clash too");
  t.same(await state(f), before, "after all refused batches, nothing changed");

  await f.store.write("e1", {
    put: [{ kind: "stack", record: stack("e1", "s2", "other") }, { kind: "service", record: service("e1", "sv2", "s2", "nginx") }],
  });
  t.equal((await f.store.get("e1", "service", "sv2"))?.name, "nginx", "the same service name in another stack is fine");
  await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s1", "web", { description: "same name" }) }] });
  t.pass("rewriting a record under its own name is not a clash");
});

t.test("renamed, removed-state and deleted records release their names", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  await f.store.write("e1", {
    put: [
      { kind: "stack", record: stack("e1", "s1", "alpha") },
      { kind: "stack", record: stack("e1", "s2", "beta") },
      { kind: "stack", record: stack("e1", "s3", "gamma") },
      { kind: "host", record: host("e1", "h1", "node-1") },
    ],
  });

  await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s1", "alpha2") }] });
  await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s4", "alpha") }] });
  t.equal((await f.store.get("e1", "stack", "s4"))?.name, "alpha", "a renamed stack's old name is free");

  await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s2", "beta", { state: "removed" }) }] });
  await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s5", "beta") }] });
  t.equal((await f.store.get("e1", "stack", "s2"))?.state, "removed", "the removed-state record stays readable");
  t.equal((await f.store.get("e1", "stack", "s5"))?.name, "beta", "its name went to the new stack");

  await f.store.write("e1", { remove: [{ kind: "stack", id: "s3" }, { kind: "host", id: "h1" }] });
  await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s6", "gamma") }, { kind: "host", record: host("e1", "h2", "node-1") }] });
  t.pass("deleted records' names are free");

  t.same(await f.redis.hgetall(f.keys.env("e1").stackNames), { alpha2: "s1", alpha: "s4", beta: "s5", gamma: "s6" },
    "the stack name index holds exactly the live names");
  t.same(await f.redis.hgetall(f.keys.env("e1").hostNames), { "node-1": "h2" }, "and the host one");

  const conflict = await droverError(f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s2", "beta") }] }), "Conflict");
  t.equal(conflict.field, "name", "reviving a removed record whose name was taken meanwhile is a clash");
});

t.test("expectRev: a stale revision is a retryable RevisionMismatch and writes nothing", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s1", "web") }] });
  const before = await state(f);

  const err = await droverError(f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s2", "api") }] }, { expectRev: 1 }), "RevisionMismatch");
  t.equal(err.retryable, true, "retryable");
  t.equal(err.detail?.currentRev, 2, "tells the current rev");
  t.same(await state(f), before, "nothing written");
  t.equal(await f.store.get("e1", "stack", "s2"), undefined, "reading back: s2 absent");

  t.equal(await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s2", "api") }] }, { expectRev: 2 }), 3,
    "the current rev is accepted");
});

t.test("records survive the script intact: empty arrays stay arrays, big numbers stay exact", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  const record = service("e1", "sv1", "s1", "nginx", {
    spec: {
      image: "nginx", command: [], entrypoint: ["/bin/sh", "-c"], env: { A: "ü \"quoted\" \\ /slash" }, ports: [],
      scale: 3, global: false, links: {}, labels: {}, restartPolicy: { name: "on-failure", maximumRetryCount: 5 },
    },
    specVersion: 2 ** 53 - 1,
  });
  await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s1") }, { kind: "service", record }] });
  t.same(await f.store.get("e1", "service", "sv1"), { ...record, rev: 2 }, "read back equal to what was written, with rev");
});

t.test("removing a host deletes its per-host keys", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  await f.store.write("e1", { put: [{ kind: "host", record: host("e1", "h1") }, { kind: "host", record: host("e1", "h2") }] });
  await f.store.setDesired("e1", { hostId: "h1", generation: 0, instances: [] }, {});
  await f.store.setDesired("e1", { hostId: "h2", generation: 0, instances: [] }, {});
  const h1 = f.keys.host("e1", "h1");
  await f.redis.set(h1.heartbeat, "x", "PX", 60_000);
  await f.redis.set(h1.observed, "{}");
  await f.redis.xadd(h1.reports, "*", "type", "observed");

  await f.store.write("e1", { remove: [{ kind: "host", id: "h1" }] });
  t.equal(await f.redis.exists(h1.desired, h1.nudges, h1.observed, h1.reports, h1.heartbeat), 0, "h1's keys are gone");
  t.ok(await f.store.getDesired("e1", "h2"), "h2's keys stay");
});

t.test("invalid batches are refused before they reach Redis", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  t.equal((await droverError(f.store.write("e1", { put: [{ kind: "stack", record: stack("e2", "s1") }] }), "InvalidField")).field, "envId",
    "a record of another environment");
  t.equal((await droverError(f.store.write("e1", { put: [{ kind: "stack", record: { ...stack("e1", "s1"), name: "" } }] }), "MissingField")).field, "name",
    "a nameless stack");
  t.equal((await droverError(f.store.write("e1", { put: [{ kind: "volume" as "stack", record: stack("e1", "s1") }] }), "InvalidField")).field, "kind",
    "an unknown kind");
  t.equal((await droverError(f.store.write("e1", { put: [] }, { expectRev: -1 }), "InvalidField")).field, "expectRev", "a negative expectRev");
  t.equal((await droverError(f.store.write("e*", {}), "InvalidField")).field, "envId", "an env id with glob characters");
  t.equal((await droverError(f.store.write("e1", { put: [{ kind: "host", record: host("e1", "h*") }] }), "InvalidField")).field, "hostId",
    "a host id that could not be a key name");
  const unknown = await droverError(f.store.write("nope", { put: [{ kind: "stack", record: stack("nope", "s1") as StackRecord }] }), "NotFound");
  t.equal(unknown.field, "envId", "an unknown environment is NotFound");
  t.equal(await f.redis.exists(f.keys.env("nope").stacks), 0, "and gets no keys");
});
