import t from "tap";
import type { EnvironmentRecord, HostObservedState, HostRecord, ServiceRecord, StackRecord } from "../../../runtime/protocol/model";
import { ReconcileManager } from "../../../runtime/reconcile/manager";
import { storeFixture } from "../store/store-fixture";
import { waitFor } from "../../support/wait";

// Incremental reconcile: an agent rewrites its observed document after each of its reconciles
// (its periodic resync too), so most reports repeat the last one. Such a report costs the
// manager one GET and no pass; a report that changes something still gets its pass at once.
// Counted with the manager's own counters on a real Redis.
const f = storeFixture(t);
const now = () => new Date().toISOString();

t.test("reports that repeat the last document run no pass; a changed one does", async (t) => {
  const envId = "e-incr";
  const env: Omit<EnvironmentRecord, "rev"> = { id: envId, name: envId, network: { cidr: "10.42.0.0/16", hostSubnetPrefix: 24 }, state: "active", createdAt: now() };
  await f.store.createEnvironment(env, "k-incr", "t-incr");
  const host: HostRecord = { id: "h1", envId, name: "h1", labels: {}, state: "active", deactivated: false, createdAt: now(), rev: 0 };
  const stack: StackRecord = { id: "st1", envId, name: "app", state: "active", createdAt: now(), rev: 0 };
  const service: ServiceRecord = {
    id: "1sweb", envId, stackId: "st1", name: "web", specVersion: 1, state: "active", transitioning: "yes", createdAt: now(), rev: 0,
    spec: { image: "local/busybox", env: {}, ports: [], scale: 2, global: false, links: {}, labels: {}, restartPolicy: { name: "always" } },
  };
  await f.store.write(envId, { put: [{ kind: "host", record: host }, { kind: "stack", record: stack }, { kind: "service", record: service }] });
  await f.redis.set(f.keys.host(envId, "h1").heartbeat, "{}", "PX", 120_000);

  const manager = new ReconcileManager({
    store: f.store, lease: f.lease, redis: f.redis, blockingRedis: f.connect(), keys: f.keys, serverId: "srv-incr",
    graceMs: 30_000, tickMs: 10_000, leaseTtlMs: 30_000, log: () => undefined,
  });
  manager.start();
  t.teardown(() => manager.stop());

  const instances = await waitFor(async () => {
    const list = await f.store.list(envId, "instance");
    return list.length === 2 && list;
  }, { what: "two instances placed", timeoutMs: 10_000 });
  const hostKeys = f.keys.host(envId, "h1");
  let generation = 0;
  /** What the agent's Reports does: SET observed, then XADD type=observed. */
  const report = async (states: Record<string, "running" | "exited">, restarted: Record<string, number> = {}) => {
    const observed: HostObservedState = {
      hostId: "h1", appliedGeneration: ++generation, reportedAt: now(),
      instances: Object.fromEntries(Object.entries(states).map(([id, state]) => [id, { state, containerId: `c-${id}`, startedAt: restarted[id] ? "2026-01-02T00:00:00.000Z" : "2026-01-01T00:00:00.000Z", restartCount: restarted[id] ?? 0, ...(state === "exited" ? { exitCode: 1 } : {}) }])),
    };
    // The generation is the agent's count of applied desired documents: it moves only with them.
    observed.appliedGeneration = 1;
    await f.redis.set(hostKeys.observed, JSON.stringify(observed));
    await f.redis.xadd(hostKeys.reports, "*", "type", "observed", "generation", "1");
  };
  const running = Object.fromEntries(instances.map((i) => [i.id, "running" as const]));
  await report(running);
  await waitFor(async () => (await f.store.list(envId, "instance")).every((i) => i.status?.state === "running"), { what: "the instances recorded running" });
  // Let the passes the change caused settle (a pass that wrote is followed by one more).
  let settled = manager.passesOf(envId);
  await waitFor(async () => {
    const before = settled;
    await new Promise((r) => setTimeout(r, 300));
    settled = manager.passesOf(envId);
    return settled === before;
  }, { what: "passes to settle" });

  const absorbedBefore = manager.reportsAbsorbedOf(envId);
  for (let k = 0; k < 10; k++) await report(running);
  await waitFor(() => manager.reportsAbsorbedOf(envId) >= absorbedBefore + 10 || manager.passesOf(envId) > settled, { what: "the ten reports handled" });
  t.equal(manager.passesOf(envId), settled, "ten repeated reports: no pass");
  t.ok(manager.reportsAbsorbedOf(envId) >= absorbedBefore + 1, `answered by the cheap check (${manager.reportsAbsorbedOf(envId) - absorbedBefore} reports absorbed)`);

  // The agent's engine restarted one container under its restart policy: still running, a new
  // start time and restart count. Settled by the incremental path: the record updated, no pass.
  const [victim, restartedOne] = instances;
  const appliedBefore = manager.instancesAppliedOf(envId);
  const eventsBefore = await f.redis.xlen(f.keys.env(envId).events);
  await report(running, { [restartedOne.id]: 1 });
  // The record is in Redis a moment before the manager, back from its write, counts it.
  await waitFor(async () => (await f.store.get(envId, "instance", restartedOne.id))?.status?.restartCount === 1 && manager.instancesAppliedOf(envId) > appliedBefore,
    { what: "the restart recorded and counted", timeoutMs: 5_000 });
  t.equal(manager.passesOf(envId), settled, "a restarted container's report: no pass");
  t.equal(manager.instancesAppliedOf(envId), appliedBefore + 1, "one record updated by the incremental path");
  const restartedRecord = await f.store.get(envId, "instance", restartedOne.id);
  t.equal(restartedRecord?.status?.startedAt, "2026-01-02T00:00:00.000Z", "with its new start time");
  t.equal(restartedRecord?.state, "active", "still active");
  t.equal(await f.redis.xlen(f.keys.env(envId).events), eventsBefore + 1, "one change event for it");
  const otherRecord = await f.store.get(envId, "instance", victim.id);
  t.equal(otherRecord?.status?.restartCount, 0, "the other instance untouched");


  await report({ ...running, [victim.id]: "exited" });
  await waitFor(() => manager.passesOf(envId) > settled, { what: "a pass after the changed report", timeoutMs: 5_000 });
  t.ok(manager.passesOf(envId) > settled, `a changed report runs a pass (${manager.passesOf(envId) - settled} pass(es))`);
  const recorded = await f.store.get(envId, "instance", victim.id);
  t.not(recorded?.status?.state, "running", "and the pass took the exit in");
});
