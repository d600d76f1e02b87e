import t, { type Test } from "tap";
import type { HostObservedState, InstanceRecord } from "../../../runtime/protocol/model";
import { ReconcileManager } from "../../../runtime/reconcile/manager";
import { storeFixture } from "../store/store-fixture";
import { waitFor } from "../../support/wait";
import { seedTwoHostWebEnvironment } from "./seed-store";

// Reports the incremental path settles (a container restarted by its engine: new start time,
// restart count) cost no full pass, neither at once nor at the next tick: the environment stays
// quiet past the leader's own small write. Time-bound decisions still come on time (a host
// whose heartbeat expires gets its pass within about a tick), and the slower full-pass timer
// still runs. On a real Redis, counted with the manager's own counters.
const f = storeFixture(t);
const now = () => new Date().toISOString();
const TICK_MS = 200;

const setUp = (envId: string) => seedTwoHostWebEnvironment(f, envId, 4);

/** What the agent's Reports does: SET observed, then XADD type=observed. */
async function report(envId: string, hostId: string, instances: InstanceRecord[], restarts = 0): Promise<void> {
  const observed: HostObservedState = {
    hostId, appliedGeneration: 1, reportedAt: now(),
    instances: Object.fromEntries(instances.filter((i) => i.hostId === hostId).map((i) => [i.id, {
      state: "running", containerId: `c-${i.id}-${restarts}`, startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, restarts)).toISOString(), restartCount: restarts,
    }])),
  };
  await f.redis.set(f.keys.host(envId, hostId).observed, JSON.stringify(observed));
  await f.redis.xadd(f.keys.host(envId, hostId).reports, "*", "type", "observed", "generation", "1");
}

async function settledManager(t: Test, envId: string, fullPassMs: number) {
  const manager = new ReconcileManager({
    store: f.store, lease: f.lease, redis: f.redis, blockingRedis: f.connect(), keys: f.keys, serverId: `srv-${envId}`,
    graceMs: 30_000, tickMs: TICK_MS, fullPassMs, leaseTtlMs: 30_000, log: () => undefined,
  });
  manager.start();
  t.teardown(() => manager.stop());
  const instances = await waitFor(async () => {
    const list = await f.store.list(envId, "instance");
    return list.length === 4 && list;
  }, { what: "four instances placed", timeoutMs: 10_000 });
  t.ok(instances.some((i) => i.hostId === "h1"), "some on h1");
  for (const h of ["h1", "h2"]) await report(envId, h, instances);
  await waitFor(async () => (await f.store.list(envId, "instance")).every((i) => i.state === "active"), { what: "the instances recorded active" });
  // Settled once a tick is skipped as quiet (the passes the change caused are done).
  const skips = manager.quietSkipsOf(envId);
  await waitFor(() => manager.quietSkipsOf(envId) > skips, { what: "a quiet tick", timeoutMs: 5_000 });
  return { manager, instances };
}

t.test("reports the incremental path settles run no full pass, at once or at the next tick", async (t) => {
  const envId = "e-absorb";
  await setUp(envId);
  const { manager, instances } = await settledManager(t, envId, 60_000);
  const passes = manager.passesOf(envId);
  const applied = manager.instancesAppliedOf(envId);
  const onH1 = instances.filter((i) => i.hostId === "h1").length;
  // Each report restarts h1's containers once more; after each, the next tick must find the
  // environment still quiet (before this change it ran a full pass at every tick after one).
  const ROUNDS = 8;
  for (let r = 1; r <= ROUNDS; r++) {
    const skips = manager.quietSkipsOf(envId);
    await report(envId, "h1", instances, r);
    await waitFor(() => manager.instancesAppliedOf(envId) >= applied + r * onH1 || manager.passesOf(envId) > passes, { what: `report ${r} settled`, timeoutMs: 5_000 });
    await waitFor(() => manager.quietSkipsOf(envId) > skips || manager.passesOf(envId) > passes, { what: `the tick after report ${r}`, timeoutMs: 5_000 });
  }
  t.equal(manager.passesOf(envId), passes, `${ROUNDS} settled reports over ${ROUNDS}+ ticks: no full pass`);
  t.equal(manager.instancesAppliedOf(envId), applied + ROUNDS * onH1, "every restart recorded by the incremental path");
  const stored = await f.store.list(envId, "instance");
  t.ok(stored.filter((i) => i.hostId === "h1").every((i) => i.status?.restartCount === ROUNDS), "the records hold the last report");

  // h2's agent stops beating: its heartbeat key expires, and the tick after that runs the pass
  // that marks the host reconnecting, while h1 keeps sending reports that are absorbed.
  const passesBefore = manager.passesOf(envId);
  const ttl = 600;
  await f.redis.set(f.keys.host(envId, "h2").heartbeat, "{}", "PX", ttl);
  const expiresAt = Date.now() + ttl;
  let r = ROUNDS;
  const host = await waitFor(async () => {
    await report(envId, "h1", instances, ++r);
    const h2 = await f.store.get(envId, "host", "h2");
    return h2?.state === "reconnecting" && h2;
  }, { what: "h2 reconnecting", timeoutMs: 10_000, intervalMs: 50, maxIntervalMs: 50 });
  const lateMs = Date.parse(host.reconnectingSince!) - expiresAt;
  t.ok(lateMs < 2 * TICK_MS + 300, `the expired heartbeat got its pass on time (${lateMs} ms after the key expired, tick ${TICK_MS} ms)`);
  t.ok(manager.passesOf(envId) > passesBefore, "by a full pass");
});

t.test("a quiet environment still gets a full pass on the slower timer", async (t) => {
  const envId = "e-fulltimer";
  await setUp(envId);
  const fullPassMs = 1_000;
  const { manager } = await settledManager(t, envId, fullPassMs);
  const passes = manager.passesOf(envId);
  const skips = manager.quietSkipsOf(envId);
  const t0 = Date.now();
  await waitFor(() => manager.passesOf(envId) >= passes + 2, { what: "two timed full passes", timeoutMs: 5_000 });
  const elapsed = Date.now() - t0;
  t.ok(manager.quietSkipsOf(envId) > skips, "ticks between them are skipped as quiet");
  t.ok(elapsed >= fullPassMs, `not at every tick: two passes took ${elapsed} ms (full pass every ${fullPassMs} ms, tick ${TICK_MS} ms)`);

  // What the leader keeps between passes is dropped at that pace too: a desired document lost
  // behind its back (no revision moved, so no pass would read it) is written again.
  const desiredKey = f.keys.host(envId, "h1").desired;
  t.ok(await f.redis.exists(desiredKey), "h1 has its desired document");
  await f.redis.del(desiredKey);
  await waitFor(async () => (await f.redis.exists(desiredKey)) === 1, { what: "the lost desired document written again", timeoutMs: 3 * fullPassMs + 2_000 });
  t.pass("the timed pass read everything afresh and wrote it again");
});
