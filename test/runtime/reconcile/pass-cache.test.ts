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
  const envId = "e-steps";
  const service = await environment(envId, 0);
  const { fence } = await f.lease.acquireOrRenew(envId, "srv-steps", 60_000);
  const snap = await f.store.snapshot(envId);
  const instance = (k: number) => ({
    kind: "instance" as const,
    record: {
      id: `i${k}`, envId, serviceId: service.id, stackId: "st1", hostId: "h1", name: `app-web-${k}`, index: k, specVersion: 1,
      spec: { image: "local/busybox", env: {}, ports: [], labels: {}, restartPolicy: { name: "always" as const } }, state: "requested" as const, createdAt: now(), rev: 0,
    },
  });
  const batch = { put: [...[1, 2, 3, 4, 5].map(instance), { kind: "service" as const, record: { ...snap.services[0], transitioning: "no" as const } }], remove: [] };
  const written = await writeInSteps(f.store, envId, batch, snap.rev, fence!, 2);
  t.equal(written.steps, 3, "five instances two at a time: three steps");
  t.equal(written.rev, snap.rev + 3, "one revision each");
  t.equal((await f.store.list(envId, "instance")).length, 5, "every instance written");
  t.equal((await f.store.get(envId, "service", service.id))?.transitioning, "no", "the service with the last step");

  // Another write lands after the first step.
  const next = await f.store.snapshot(envId);
  let steps = 0;
  const racing = new Proxy(f.store, {
    get(target, prop, receiver) {
      if (prop === "write") {
        return async (...args: Parameters<Store["write"]>) => {
          const rev = await target.write(...args);
          if (++steps === 1) await target.write(envId, { put: [{ kind: "stack", record: { ...next.stacks[0], description: "changed meanwhile" } }] });
          return rev;
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Store;
  const more = { put: [6, 7, 8, 9].map(instance), remove: [{ kind: "instance" as const, id: "i1" }] };
  await t.rejects(writeInSteps(racing, envId, more, next.rev, fence!, 2), { code: "RevisionMismatch" }, "the second step is refused");
  const ids = (await f.store.list(envId, "instance")).map((i) => i.id).sort();
  t.same(ids, ["i1", "i2", "i3", "i4", "i5", "i6", "i7"], "the first step's instances applied, the rest and the removal not");
});
