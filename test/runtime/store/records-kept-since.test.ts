import t from "tap";
import { createEnv, droverError, host, instance, service, stack, storeFixture } from "./store-fixture";

// WriteOptions.recordsKeptSince: an API update planned at an older revision goes through when
// every write since changed no record but instances (the leader placing, agents' reports written
// back, creations), and is refused as before when any other record was updated or removed since.

const renamed = (description: string) => ({ put: [{ kind: "stack" as const, record: stack("e1", "s1", "one", { description }) }] });
const revOf = async (f: ReturnType<typeof storeFixture>) => Number(await f.redis.get(f.keys.env("e1").rev));

async function environment(f: ReturnType<typeof storeFixture>) {
  await createEnv(f);
  const planned = await f.store.write("e1", {
    put: [
      { kind: "stack", record: stack("e1", "s1", "one") },
      { kind: "service", record: service("e1", "v1", "s1", "web") },
      { kind: "host", record: host("e1", "h1", "one") },
    ],
  });
  return planned;
}

t.test("after the leader's instance writes, agents' reports and creations: written, on the revision it found", async (t) => {
  const f = storeFixture(t);
  const planned = await environment(f);
  // The leader places two instances, then moves one (an update), then removes the other.
  const i1 = instance("e1", "i1", "v1", "s1", "h1");
  const i2 = instance("e1", "i2", "v1", "s1", "h1");
  await f.store.write("e1", { put: [{ kind: "instance", record: i1 }, { kind: "instance", record: i2 }] });
  await f.store.write("e1", { put: [{ kind: "instance", record: { ...i1, ip: "10.42.0.9" } }] });
  await f.store.write("e1", { remove: [{ kind: "instance", id: "i2" }] });
  // An agent's report written back by the incremental path, a machine registering, a stack created.
  const [stored] = await f.store.getMany("e1", "instance", ["i1"]);
  await f.store.observeInstances("e1", [{ ...stored!, status: { state: "running" } } as typeof stored & object]);
  await f.store.registerHost("e1", host("e1", "h2", "two", { machineId: "m2" }), undefined);
  await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s2", "two") }] });
  t.equal(await revOf(f), planned + 6, "six writes since");

  await droverError(f.store.write("e1", renamed("a"), { expectRev: planned }), "RevisionMismatch");
  await droverError(f.store.write("e1", renamed("a"), { expectRev: planned, creationsSince: true }), "RevisionMismatch");
  const written = await f.store.writeOn("e1", renamed("a"), { expectRev: planned, recordsKeptSince: true });
  t.same(written, { rev: planned + 7, onRev: planned + 6 }, "written, on the revision six writes on");
  t.equal((await f.store.get("e1", "stack", "s1"))?.description, "a", "the change is there");
});

t.test("any other update or removal since refuses it, nothing written", async (t) => {
  const f = storeFixture(t);
  const planned = await environment(f);
  const opts = { expectRev: planned, recordsKeptSince: true };
  await f.store.write("e1", { put: [{ kind: "instance", record: instance("e1", "i1", "v1", "s1", "h1") }] });
  // The leader settles the service in the same batch as an instance: the service changed.
  await f.store.write("e1", {
    put: [{ kind: "instance", record: instance("e1", "i2", "v1", "s1", "h1") }, { kind: "service", record: service("e1", "v1", "s1", "web", { transitioning: "no" }) }],
  });
  await f.store.write("e1", { put: [{ kind: "instance", record: instance("e1", "i3", "v1", "s1", "h1") }] });
  await droverError(f.store.write("e1", renamed("b"), opts), "RevisionMismatch");
  t.equal((await f.store.get("e1", "stack", "s1"))?.description, undefined, "a service update two writes back: refused");

  const beforeRemoval = await revOf(f);
  await f.store.write("e1", { remove: [{ kind: "service", id: "v1" }] });
  await droverError(f.store.write("e1", renamed("b"), { expectRev: beforeRemoval, recordsKeptSince: true }), "RevisionMismatch");

  // A machine registering again updates its host record.
  await f.store.registerHost("e1", host("e1", "h2", "two", { machineId: "m2" }), undefined);
  const afterNew = await revOf(f);
  const h2 = (await f.store.hostOfMachine("e1", "m2"))!;
  await f.store.registerHost("e1", { ...h2, labels: { again: "yes" } }, h2);
  await droverError(f.store.write("e1", renamed("b"), { expectRev: afterNew, recordsKeptSince: true }), "RevisionMismatch");

  // A revision bumped by hand (a repair) is no write the run knows of.
  const beforeHand = await revOf(f);
  await f.redis.incr(f.keys.env("e1").rev);
  await droverError(f.store.write("e1", renamed("b"), { expectRev: beforeHand, recordsKeptSince: true }), "RevisionMismatch");
  t.equal((await f.store.get("e1", "stack", "s1"))?.description, undefined, "nothing was written");
});

t.test("a write that changes records breaks the run for later writers; its own creations do not", async (t) => {
  const f = storeFixture(t);
  const planned = await environment(f);
  await f.store.write("e1", { put: [{ kind: "instance", record: instance("e1", "i1", "v1", "s1", "h1") }] });
  await f.store.write("e1", renamed("c"), { expectRev: planned, recordsKeptSince: true });
  await f.store.write("e1", { put: [{ kind: "instance", record: instance("e1", "i2", "v1", "s1", "h1") }] });
  await droverError(f.store.write("e1", renamed("d"), { expectRev: planned + 1, recordsKeptSince: true }), "RevisionMismatch");
  t.equal((await f.store.get("e1", "stack", "s1"))?.description, "c", "the stack update in between refuses a write planned before it");
});

t.test("the two tolerances are exclusive", async (t) => {
  const f = storeFixture(t);
  const planned = await environment(f);
  await t.rejects(f.store.write("e1", renamed("e"), { expectRev: planned, creationsSince: true, recordsKeptSince: true }), /exclusive/);
});
