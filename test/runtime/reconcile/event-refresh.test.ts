import t from "tap";
import { changedSince } from "../../../runtime/reconcile/event-refresh";
import { readSnapshot } from "../../../runtime/reconcile/snapshot-cache";
import { newPassCache } from "../../../runtime/reconcile/pass-cache";
import type { Store, StoreEvent } from "../../../runtime/store/store";
import { createEnv, host, instance, service, stack, storeFixture, type Teardownable } from "../store/store-fixture";

// A leader's cache brought up to date from the events others' writes left (event-refresh.ts):
// the records they name are read, not every record; whatever the events cannot tell (a
// revision without an entry, a trimmed stream) still reads everything.

const ev = (type: string, id: string, rev: number): StoreEvent => ({ id: `${rev}-0`, fields: { type, action: "updated", id, rev: String(rev) } });

t.test("the changes the events tell, or undefined when they cannot", async (t) => {
  const newestFirst = [ev("instance", "i1", 12), ev("stack", "st1", 11), ev("environment", "e1", 11), ev("instance", "i1", 11), ev("service", "v1", 10), ev("host", "h1", 9)];
  t.same(changedSince(newestFirst, 10, 12), [{ kind: "instance", id: "i1" }, { kind: "stack", id: "st1" }], "revisions 11 and 12, each record once, the environment's own entry left out");
  t.same(changedSince(newestFirst, 9, 11), [{ kind: "stack", id: "st1" }, { kind: "instance", id: "i1" }, { kind: "service", id: "v1" }], "entries past the revision read are not counted");
  t.equal(changedSince([ev("stack", "st1", 12), ev("host", "h1", 9)], 9, 12), undefined, "revisions 10 and 11 left no entry (a new pre-shared key, an environment update half done)");
  t.equal(changedSince([ev("stack", "st1", 12), ev("stack", "st1", 11)], 9, 12), undefined, "the stream does not reach back to revision 10: trimmed, or more changes than were read");
  t.equal(changedSince([ev("volume", "x", 10), ev("host", "h1", 9)], 9, 10), undefined, "a kind it does not know");
  t.same(changedSince([ev("host", "h1", 9)], 9, 9), [], "nothing since");
});

/** `beforeRecordsRead`: another writer's write, run before each read of the records the events name. */
async function seeded(t: Teardownable, beforeRecordsRead?: () => Promise<unknown>) {
  const f = storeFixture(t);
  await createEnv(f);
  await f.store.write("e1", {
    put: [{ kind: "stack", record: stack("e1", "st1", "app") }, { kind: "service", record: service("e1", "v1", "st1", "web") }, { kind: "host", record: host("e1", "h1", "one") },
      ...["i1", "i2", "i3"].map((id) => ({ kind: "instance" as const, record: instance("e1", id, "v1", "st1", "h1") }))],
  });
  let fullReads = 0;
  const store = new Proxy(f.store, {
    get(target, prop, receiver) {
      if (prop === "snapshot") return async (envId: string) => { fullReads++; return target.snapshot(envId); };
      if (prop === "recordsWithRev" && beforeRecordsRead) {
        return async (...args: Parameters<Store["recordsWithRev"]>) => { await beforeRecordsRead(); return target.recordsWithRev(...args); };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Store;
  const cache = newPassCache();
  const read = () => readSnapshot(store, f.redis, f.keys, "e1", cache.snapshot);
  await read();
  return { f, read, fullReads: () => fullReads };
}

t.test("others' writes since the cached revision: only the records they name are read, and the snapshot is what is stored", async (t) => {
  const { f, read, fullReads } = await seeded(t);
  t.equal(fullReads(), 1, "the first read is a full one");
  // An API update and creation, a removal, and the leader's own write-back of a report.
  await f.store.write("e1", { put: [{ kind: "stack", record: { ...stack("e1", "st1", "app"), description: "edited" } }, { kind: "service", record: service("e1", "v2", "st1", "db") }] });
  await f.store.write("e1", { remove: [{ kind: "instance", id: "i2" }] });
  const [i3] = await f.store.getMany("e1", "instance", ["i3"]);
  await f.store.observeInstances("e1", [{ ...i3!, status: { state: "running" } } as typeof i3 & object]);
  const { snapshot, fresh } = await read();
  t.notOk(fresh, "taken from the events");
  t.equal(fullReads(), 1, "no full read");
  const stored = await f.store.snapshot("e1");
  t.same(snapshot, stored, "the snapshot is exactly what a full read gives, order included");
  t.equal(snapshot.rev, stored.rev);
  t.same(snapshot.instances.map((i) => i.id), ["i1", "i3"]);
  t.equal(snapshot.instances.find((i) => i.id === "i3")?.status?.state, "running");
});

t.test("a revision without an entry, or a record a full read must refuse: read in full", async (t) => {
  const { f, read, fullReads } = await seeded(t);
  await f.store.setIpsec("e1", { pskId: "p2", psk: "x".repeat(44) });
  t.ok((await read()).fresh, "a new pre-shared key names no record: read in full");
  t.equal(fullReads(), 2);

  // A record written by hand that the planner cannot work with: the full read says which.
  await f.store.write("e1", { put: [{ kind: "stack", record: { ...stack("e1", "st1", "app"), description: "again" } }] });
  const rev = Number(await f.redis.get(f.keys.env("e1").rev));
  await f.redis.hset(f.keys.env("e1").stacks, "st1", JSON.stringify({ ...stack("e1", "st1", "app"), state: "sideways", rev }));
  t.ok((await read()).fresh, "the bad record is not taken from the events");
  t.equal(fullReads(), 3);
});

t.test("a write landing between the events read and the records read: both are read again, not every record", async (t) => {
  let landing = 0;
  let between = 0;
  // Two writes land in the gap (hosts registering by the thousand), then none.
  const { f, read, fullReads } = await seeded(t, async () => {
    if (between-- > 0) await f.store.write("e1", { put: [{ kind: "host", record: host("e1", `hn${++landing}`, `new-${landing}`) }] });
  });
  await f.store.write("e1", { put: [{ kind: "stack", record: { ...stack("e1", "st1", "app"), description: "edited" } }] });
  between = 2;
  const { snapshot, fresh } = await read();
  t.notOk(fresh, "taken from the events");
  t.equal(fullReads(), 1, "no full read after the first");
  t.same(snapshot, await f.store.snapshot("e1"), "the snapshot is what is stored, both new hosts with it");
  t.equal(snapshot.hosts.length, 3);

  await f.store.write("e1", { put: [{ kind: "stack", record: { ...stack("e1", "st1", "app"), description: "edited again" } }] });
  between = 100;
  t.ok((await read()).fresh, "writes landing in the gap every time: read in full, at last");
  t.equal(fullReads(), 2);
});
