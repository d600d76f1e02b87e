import t from "tap";
import { createEnv, droverError, host, instance, service, stack, storeFixture } from "./store-fixture";

// RedisStore.observeInstances: the incremental reconcile's write. Each record only if it is
// still at the revision read, all or nothing, fenced, events but no reconcile nudge.

async function seeded(t: { teardown(fn: () => unknown): void }) {
  const f = storeFixture(t);
  await createEnv(f);
  await f.store.write("e1", { put: [
    { kind: "host", record: host("e1", "h1") }, { kind: "stack", record: stack("e1", "st1") },
    { kind: "service", record: service("e1", "sv1", "st1") },
    { kind: "instance", record: instance("e1", "i1", "sv1", "st1", "h1") },
    { kind: "instance", record: { ...instance("e1", "i2", "sv1", "st1", "h1"), name: "s-sv1-2", index: 2 } },
  ] });
  const lease = await f.lease.acquireOrRenew("e1", "srv-obs", 30_000);
  const [i1, i2] = await f.store.getMany("e1", "instance", ["i1", "i2"]);
  return { f, fence: lease.fence!, i1: i1!, i2: i2! };
}

const running = { state: "running" as const, containerId: "c1", startedAt: "2026-01-01T00:00:00.000Z", restartCount: 1 };

t.test("records still at the revision read are written with a new revision, an event each, no reconcile nudge", async (t) => {
  const { f, fence, i1, i2 } = await seeded(t);
  const env = f.keys.env("e1");
  const before = { rev: Number(await f.redis.get(env.rev)), events: await f.redis.xlen(env.events), reconcile: await f.redis.xlen(env.reconcile) };
  const rev = await f.store.observeInstances("e1", [{ ...i1, state: "active", status: running }, { ...i2, state: "active", status: { ...running, containerId: "c2" } }], { fence });
  t.equal(rev, before.rev + 1, "one new environment revision");
  const [a, b] = await f.store.getMany("e1", "instance", ["i1", "i2"]);
  t.same([a?.status?.containerId, a?.rev, b?.status?.containerId, b?.rev], ["c1", rev, "c2", rev], "both stored with it");
  t.equal(await f.redis.xlen(env.events), before.events + 2, "one change event per record");
  t.equal(await f.redis.xlen(env.reconcile), before.reconcile, "no reconcile nudge");
});

t.test("a record changed since it was read: nothing written", async (t) => {
  const { f, fence, i1, i2 } = await seeded(t);
  await f.store.write("e1", { put: [{ kind: "instance", record: { ...i2, state: "stopping" } }] });
  const env = f.keys.env("e1");
  const rev = await f.redis.get(env.rev);
  const err = await droverError(f.store.observeInstances("e1", [{ ...i1, status: running }, { ...i2, status: running }], { fence }), "RevisionMismatch");
  t.match(err.message, /instance i2 changed or went/, "names the record");
  t.equal(await f.redis.get(env.rev), rev, "revision unchanged");
  t.equal((await f.store.get("e1", "instance", "i1"))?.status, undefined, "the other record untouched too");
});

t.test("a removed record, a stale fence, a rev that is not a number: refused", async (t) => {
  const { f, fence, i1 } = await seeded(t);
  await droverError(f.store.observeInstances("e1", [{ ...i1, status: running }], { fence: fence + 1 }), "NotLeader");
  await droverError(f.store.observeInstances("e1", [{ ...i1, rev: undefined as unknown as number, status: running }], { fence }), "InvalidField");
  await f.store.write("e1", { remove: [{ kind: "instance", id: "i1" }] });
  await droverError(f.store.observeInstances("e1", [{ ...i1, status: running }], { fence }), "RevisionMismatch");
  t.equal(await f.store.get("e1", "instance", "i1"), undefined, "not written back");
});
