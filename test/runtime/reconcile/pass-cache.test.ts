import t from "tap";
import type { ServiceRecord } from "../../../runtime/protocol/model";
import { reconcileEnvironment } from "../../../runtime/reconcile/env-reconciler";
import { newPassCache } from "../../../runtime/reconcile/pass-cache";
import { writeInSteps } from "../../../runtime/reconcile/chunked-write";
import type { Store } from "../../../runtime/store/store";
import { storeFixture } from "../store/store-fixture";
import { seedTwoHostWebEnvironment } from "./seed-store";

// What a leader remembers between passes (pass-cache.ts, snapshot-cache.ts): the records it
// kept must be what a fresh read returns, another writer's change must be seen at the next
// pass, and a cached pass must not read the desired documents it already knows. On a real Redis.
const f = storeFixture(t);
const now = () => new Date().toISOString();

const environment = (envId: string, scale: number): Promise<ServiceRecord> => seedTwoHostWebEnvironment(f, envId, scale);

/** An instance put of the seeded `web` service, on h1. */
function instancePut(envId: string, serviceId: string, k: number) {
  return {
    kind: "instance" as const,
    record: {
      id: `i${k}`, envId, serviceId, stackId: "st1", hostId: "h1", name: `app-web-${k}`, index: k, specVersion: 1,
      spec: { image: "local/busybox", env: {}, ports: [], labels: {}, restartPolicy: { name: "always" as const } }, state: "requested" as const, createdAt: now(), rev: 0,
    },
  };
}

/** An environment to write steps to: its `web` service with nothing placed, this test's leader fence, its snapshot, and instance puts of the service. */
async function stepsEnvironment(envId: string) {
  const service = await environment(envId, 0);
  const { fence } = await f.lease.acquireOrRenew(envId, `srv-${envId}`, 60_000);
  const snap = await f.store.snapshot(envId);
  return { envId, service, fence, snap, instance: (k: number) => instancePut(envId, service.id, k) };
}

/** The store, doing `between` (another writer's write) right after the first step a pass writes. */
function afterFirstStep(between: () => Promise<unknown>): Store {
  let steps = 0;
  return new Proxy(f.store, {
    get(target, prop, receiver) {
      if (prop === "writeOn") {
        return async (...args: Parameters<Store["writeOn"]>) => {
          const written = await target.writeOn(...args);
          if (++steps === 1) await between();
          return written;
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Store;
}

/** The store, counting the desired documents it is asked for. */
function countingStore(): { store: Store; desiredReads: () => number } {
  let reads = 0;
  const store = new Proxy(f.store, {
    get(target, prop, receiver) {
      if (prop === "getDesired") return (...args: Parameters<Store["getDesired"]>) => { reads++; return target.getDesired(...args); };
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Store;
  return { store, desiredReads: () => reads };
}

t.test("the records a leader keeps are what a fresh read returns, and another writer's change is seen", async (t) => {
  const envId = "e-cache";
  const service = await environment(envId, 6);
  const cache = newPassCache();
  const { store, desiredReads } = countingStore();
  const deps = { store, redis: f.redis, keys: f.keys, graceMs: 30_000, log: () => undefined };
  const { fence } = await f.lease.acquireOrRenew(envId, "srv-cache", 60_000);
  const pass = () => reconcileEnvironment(envId, fence!, deps, cache);
  const first = await pass();
  t.ok(first.changed, "the first pass places");
  t.equal(desiredReads(), 2, "it read both hosts' desired documents");
  for (let k = 0; k < 10 && (await pass()).changed; k++);
  const reads = desiredReads();
  const settled = await pass();
  t.notOk(settled.changed, "settled: a pass plans nothing");
  t.equal(desiredReads(), reads, "and reads no desired document: it wrote or read them all already");

  const fresh = await f.store.snapshot(envId);
  const kept = cache.snapshot.records!;
  t.equal(kept.rev, fresh.rev, "kept at the stored revision");
  t.same(kept.lists.instances, fresh.instances, "the instances as stored");
  t.same(kept.lists.services, fresh.services, "the services as stored");
  t.same(kept.lists.hosts, fresh.hosts, "the hosts as stored");

  // Another writer (the API) scales the service up: the revision moves, the next pass reads afresh.
  const stored = (await f.store.get(envId, "service", service.id))!;
  await f.store.write(envId, { put: [{ kind: "service", record: { ...stored, spec: { ...stored.spec, scale: 8 } } }] });
  await pass();
  t.equal((await f.store.list(envId, "instance")).length, 8, "the scale change was acted on");
  t.same(cache.snapshot.records!.lists.instances, (await f.store.snapshot(envId)).instances, "and the kept records follow");
});

t.test("a pass's many instance puts go in steps; a write between steps stops the rest, the first ones applied", async (t) => {
  const { envId, service, fence, snap, instance } = await stepsEnvironment("e-steps");
  const batch = { put: [...[1, 2, 3, 4, 5].map(instance), { kind: "service" as const, record: { ...snap.services[0], transitioning: "no" as const } }], remove: [] };
  const written = await writeInSteps(f.store, envId, batch, snap.rev, fence!, 2);
  t.equal(written.steps, 3, "five instances two at a time: three steps");
  t.equal(written.rev, snap.rev + 3, "one revision each");
  t.ok(written.own, "nothing came between them");
  t.equal((await f.store.list(envId, "instance")).length, 5, "every instance written");
  t.equal((await f.store.get(envId, "service", service.id))?.transitioning, "no", "the service with the last step");

  // Another write lands after the first step.
  const next = await f.store.snapshot(envId);
  const racing = afterFirstStep(() => f.store.write(envId, { put: [{ kind: "stack", record: { ...next.stacks[0], description: "changed meanwhile" } }] }));
  const more = { put: [6, 7, 8, 9].map(instance), remove: [{ kind: "instance" as const, id: "i1" }] };
  await t.rejects(writeInSteps(racing, envId, more, next.rev, fence!, 2), { code: "RevisionMismatch" }, "the second step is refused");
  const ids = (await f.store.list(envId, "instance")).map((i) => i.id).sort();
  t.same(ids, ["i1", "i2", "i3", "i4", "i5", "i6", "i7"], "the first step's instances applied, the rest and the removal not");
});

t.test("a bad record in a later step fails the write at its turn, the steps before it applied", async (t) => {
  const { envId, fence, snap, instance } = await stepsEnvironment("e-steps-bad");
  // The next step is made while the one before is in Redis (chunked-write.ts): its error must
  // still come from writeInSteps, in turn, and not escape as an unhandled rejection.
  const stray = instance(4);
  stray.record.envId = "another-env";
  const failure = writeInSteps(f.store, envId, { put: [instance(1), instance(2), instance(3), stray, instance(5)], remove: [] }, snap.rev, fence!, 2);
  await t.rejects(failure, { code: "InvalidField", message: /belongs to environment another-env/ }, "the write fails on the second step's record");
  t.same((await f.store.list(envId, "instance")).map((i) => i.id).sort(), ["i1", "i2"], "the first step applied, nothing after it");
});

t.test("a creation between steps does not stop them, and the leader reads afresh after", async (t) => {
  const { envId, fence, snap, instance } = await stepsEnvironment("e-steps-new");
  // A stack created by another writer (the API) after the first step.
  const racing = afterFirstStep(() => f.store.write(envId, { put: [{ kind: "stack", record: { ...snap.stacks[0], id: "st2", name: "other" } }] }));
  const written = await writeInSteps(racing, envId, { put: [1, 2, 3, 4, 5].map(instance), remove: [] }, snap.rev, fence!, 2);
  t.equal(written.steps, 3, "every step written");
  t.equal(written.rev, snap.rev + 4, "three steps and the creation");
  t.notOk(written.own, "says another write came between");
  t.equal((await f.store.list(envId, "instance")).length, 5, "all five instances stored");
});

t.test("a pass whose write follows another writer's creations keeps its plan; the next pass reads them", async (t) => {
  const envId = "e-cache-new";
  await environment(envId, 4);
  const cache = newPassCache();
  const { fence } = await f.lease.acquireOrRenew(envId, "srv-cache-new", 60_000);
  const base = { redis: f.redis, keys: f.keys, graceMs: 30_000, log: () => undefined };
  const snap = await f.store.snapshot(envId);
  // Lands between the pass's read and its write: the API creating a service, or an update.
  const between = (extra: () => Promise<unknown>): Store => {
    let done = false;
    return new Proxy(f.store, {
      get(target, prop, receiver) {
        if (prop === "writeOn") {
          return async (...args: Parameters<Store["writeOn"]>) => {
            if (!done) { done = true; await extra(); }
            return target.writeOn(...args);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as Store;
  };
  const api = { ...snap.services[0], id: "1sapi", name: "api", createdAt: now(), spec: { ...snap.services[0].spec, scale: 2 } };
  const created = await reconcileEnvironment(envId, fence!, { ...base, store: between(() => f.store.write(envId, { put: [{ kind: "service", record: api }] })) }, cache);
  t.ok(created.changed, "the pass wrote its plan although a service was created meanwhile");
  const afterFirst = await f.store.list(envId, "instance");
  t.equal(afterFirst.filter((i) => i.serviceId === "1sweb").length, 4, "web's four instances placed");
  t.equal(afterFirst.filter((i) => i.serviceId === "1sapi").length, 0, "the new service waits for the next pass");
  const storedRev = (await f.store.snapshot(envId)).rev;
  t.ok(cache.snapshot.records && cache.snapshot.records.rev <= storedRev - 2, `the kept records stay as the pass read them, before the creation and its own write (${cache.snapshot.records?.rev}, stored ${storedRev})`);
  const next = await reconcileEnvironment(envId, fence!, { ...base, store: f.store }, cache);
  t.notOk(next.fullRead, "the next pass takes both writes from the events, not every record");
  t.equal((await f.store.list(envId, "instance")).filter((i) => i.serviceId === "1sapi").length, 2, "the next pass places it");
  for (let k = 0; k < 10 && (await reconcileEnvironment(envId, fence!, { ...base, store: f.store }, cache)).changed; k++);
  const fresh = await f.store.snapshot(envId);
  t.same(cache.snapshot.records?.lists.instances, fresh.instances, "the kept instances are what a fresh read returns");
  t.same(cache.snapshot.records?.lists.services, fresh.services, "and so are the services, the created one with them");

  // An update between read and write still makes the pass start over.
  const web = (await f.store.get(envId, "service", "1sweb"))!;
  const scaled = { ...web, spec: { ...web.spec, scale: 6 } };
  await f.store.write(envId, { put: [{ kind: "service", record: scaled }] });
  const instancesBefore = (await f.store.list(envId, "instance")).length;
  await t.rejects(reconcileEnvironment(envId, fence!, {
    ...base,
    store: between(async () => { const s = (await f.store.get(envId, "service", "1sweb"))!; await f.store.write(envId, { put: [{ kind: "service", record: { ...s, spec: { ...s.spec, scale: 5 } } }] }); }),
  }, cache), { code: "RevisionMismatch" }, "refused: a service changed since the pass read");
  t.equal((await f.store.list(envId, "instance")).length, instancesBefore, "and nothing of its plan was written");
});

t.test("a pass refused part way keeps its written steps in the cache; the next pass takes the API write from the events", async (t) => {
  const envId = "e-cache-race";
  await environment(envId, 5);
  const cache = newPassCache();
  const { fence } = await f.lease.acquireOrRenew(envId, "srv-race", 60_000);
  // The API edits the stack once the pass's first step (two of its five instances) is written.
  const editStack = async () => {
    const [stack] = await f.store.list(envId, "stack");
    await f.store.write(envId, { put: [{ kind: "stack", record: { ...stack, description: "edited meanwhile" } }] });
  };
  const deps = { store: afterFirstStep(editStack), redis: f.redis, keys: f.keys, graceMs: 30_000, log: () => undefined, instancePutsPerWrite: 2 };
  await t.rejects(reconcileEnvironment(envId, fence!, deps, cache), { code: "RevisionMismatch" }, "the pass's second step is refused");
  const stored = await f.store.snapshot(envId);
  t.equal(stored.instances.length, 2, "its first step's instances are stored");
  const kept = cache.snapshot.records;
  t.ok(kept, "the leader keeps its records");
  t.equal(kept?.rev, stored.rev - 1, "at the revision its first step left (the stack edit came after)");
  t.same(kept?.lists.instances, stored.instances, "with the instances as stored");

  const again = { ...deps, store: f.store };
  const next = await reconcileEnvironment(envId, fence!, again, cache);
  t.notOk(next.fullRead, "the next pass reads only what the events name, not every record");
  for (let k = 0; k < 10 && (await reconcileEnvironment(envId, fence!, again, cache)).changed; k++);
  const fresh = await f.store.snapshot(envId);
  t.equal(fresh.instances.length, 5, "the service is placed in full");
  // A write in steps is kept with its last step's revision on every record (applyOwnWrite): compared without it.
  const withoutRev = (records: Array<{ rev: number }>) => records.map((r) => ({ ...r, rev: 0 }));
  t.same(withoutRev(cache.snapshot.records!.lists.instances), withoutRev(fresh.instances), "the kept instances are what a fresh read returns");
  t.same(cache.snapshot.records!.lists.stacks, fresh.stacks, "and so is the edited stack");
});
