import t from "tap";
import { isDroverError } from "../../../runtime/protocol/errors";
import { createEnv, host, storeFixture } from "./store-fixture";

/** RedisStore.hostOfMachine + registerHost: registration as one compare-and-set on one host record. */

async function refusal(p: Promise<unknown>): Promise<{ code: string; field?: string }> {
  try {
    await p;
  } catch (err) {
    if (isDroverError(err)) return { code: err.code, field: err.field };
    throw err;
  }
  throw new Error("expected a refusal");
}

t.test("a new machine is created, found again through the machine index, and updated in place", async (t) => {
  const f = storeFixture(t);
  await createEnv(f, "e1");
  t.equal(await f.store.hostOfMachine("e1", "m1"), undefined, "unknown machine");
  const rev = await f.store.registerHost("e1", host("e1", "h1", "one", { machineId: "m1" }), undefined);
  const found = await f.store.hostOfMachine("e1", "m1");
  t.equal(found?.id, "h1", "found by machine id");
  t.equal(found?.rev, rev, "with the script's rev");
  const events = await f.redis.xrange(f.keys.env("e1").events, "-", "+");
  t.same(events.at(-1)?.[1].slice(0, 6), ["type", "host", "action", "created", "id", "h1"], "a created event");
  const rev2 = await f.store.registerHost("e1", { ...found!, labels: { a: "b" } }, found);
  t.ok(rev2 > rev, "rev grows");
  t.same((await f.store.get("e1", "host", "h1"))?.labels, { a: "b" }, "updated in place");
  t.same((await f.redis.xrange(f.keys.env("e1").reconcile, "-", "+")).length >= 2, true, "the reconciler is nudged");
});

t.test("stale reads, taken names and a second host for a known machine are refused, changing nothing", async (t) => {
  const f = storeFixture(t);
  await createEnv(f, "e1");
  await f.store.registerHost("e1", host("e1", "h1", "one", { machineId: "m1" }), undefined);
  const h1 = (await f.store.hostOfMachine("e1", "m1"))!;
  const revBefore = await f.redis.get(f.keys.env("e1").rev);
  t.same(await refusal(f.store.registerHost("e1", host("e1", "h9", "nine", { machineId: "m1" }), undefined)),
    { code: "RevisionMismatch", field: undefined }, "a new host for a machine that has one: the caller read too early");
  t.same(await refusal(f.store.registerHost("e1", { ...h1, name: "renamed" }, { ...h1, rev: h1.rev - 1 })),
    { code: "RevisionMismatch", field: undefined }, "an older rev of the record");
  t.same(await refusal(f.store.registerHost("e1", host("e1", "h2", "one", { machineId: "m2" }), undefined)),
    { code: "Conflict", field: "name" }, "a name another host holds");
  t.same(await refusal(f.store.registerHost("e9", host("e9", "h2", "two", { machineId: "m2" }), undefined)),
    { code: "NotFound", field: "envId" }, "an environment that does not exist");
  t.equal(await f.redis.get(f.keys.env("e1").rev), revBefore, "no write");
  t.equal(await f.store.hostOfMachine("e1", "m2"), undefined, "no host for m2");
  t.equal((await f.store.get("e1", "host", "h1"))?.name, "one", "h1 as it was");
});

t.test("hosts stored before the machine index existed are found, and indexed by the first registration", async (t) => {
  const f = storeFixture(t);
  await createEnv(f, "e1");
  await f.store.write("e1", { put: [{ kind: "host", record: host("e1", "h1", "one", { machineId: "m1" }) }] });
  await f.redis.del(f.keys.env("e1").hostMachines);
  const old = await f.store.hostOfMachine("e1", "m1");
  t.equal(old?.id, "h1", "found by looking through the hosts");
  await f.store.registerHost("e1", host("e1", "h2", "two", { machineId: "m2" }), undefined);
  t.same(await f.redis.hgetall(f.keys.env("e1").hostMachines), { m1: "h1", m2: "h2" }, "index built");
  await f.store.write("e1", { remove: [{ kind: "host", id: "h1" }] });
  t.equal(await f.store.hostOfMachine("e1", "m1"), undefined, "a removed host's machine is new again");
  await f.store.registerHost("e1", host("e1", "h3", "one", { machineId: "m1" }), undefined);
  t.equal((await f.store.hostOfMachine("e1", "m1"))?.id, "h3", "and registers as a new host");
});

t.test("many machines registering at once never make each other retry", async (t) => {
  const f = storeFixture(t);
  await createEnv(f, "e1");
  const n = 200;
  const revs = await Promise.all(Array.from({ length: n }, (_, i) =>
    f.store.registerHost("e1", host("e1", `h${i}`, `n${i}`, { machineId: `m${i}` }), undefined)));
  t.equal(new Set(revs).size, n, "each registration one write of its own");
  t.equal(Number(await f.redis.hlen(f.keys.env("e1").hosts)), n, "all hosts stored");
});
