import t from "tap";
import { presentEnvironment } from "../../../runtime/api/present/environment";
import { makeUrls } from "../../../runtime/api/urls";
import type { EnvironmentRecord, HostRecord, ServiceRecord, StackRecord } from "../../../runtime/protocol/model";
import { ReconcileManager } from "../../../runtime/reconcile/manager";
import { storeFixture } from "../store/store-fixture";
import { waitFor } from "../../support/wait";

// One environment whose stored records the reconciler cannot work with must not hold up the
// others: its error is recorded on it (and shown by the API), it backs off, and the other
// environments' passes go on at their own pace.
const f = storeFixture(t);
const now = () => new Date().toISOString();

async function environment(id: string): Promise<EnvironmentRecord> {
  return f.store.createEnvironment({ id, name: id, network: { cidr: "10.42.0.0/16", hostSubnetPrefix: 24 }, state: "active", createdAt: now() }, `k-${id}`, `t-${id}`);
}

async function hostWithHeartbeat(envId: string, hostId: string): Promise<void> {
  const host: HostRecord = { id: hostId, envId, name: hostId, labels: {}, state: "active", deactivated: false, createdAt: now(), rev: 0 };
  await f.store.write(envId, { put: [{ kind: "host", record: host }] });
  await f.redis.set(f.keys.host(envId, hostId).heartbeat, "{}", "PX", 120_000);
}

function service(envId: string, id: string, scale: number): ServiceRecord {
  return {
    id, envId, stackId: "st1", name: id, specVersion: 1, state: "active", transitioning: "yes", createdAt: now(), rev: 0,
    spec: { image: "local/busybox", env: {}, ports: [], scale, global: false, links: {}, labels: {}, restartPolicy: { name: "always" } },
  };
}

t.test("a stored record that fails validation stalls only its own environment", async (t) => {
  // Created first, so it comes first in every loop over the led environments.
  const sick = await environment("e-sick");
  const others = [await environment("e-b"), await environment("e-c")];
  const stack = (envId: string): StackRecord => ({ id: "st1", envId, name: "app", state: "active", createdAt: now(), rev: 0 });
  for (const e of [sick, ...others]) {
    await f.store.write(e.id, { put: [{ kind: "stack", record: stack(e.id) }] });
    await hostWithHeartbeat(e.id, "h1");
  }
  // A service record without its spec, as a hand edit or a damaged write would leave it.
  const broken = { ...service(sick.id, "1sbroken", 1) } as Partial<ServiceRecord>;
  delete broken.spec;
  await f.redis.hset(f.keys.env(sick.id).services, "1sbroken", JSON.stringify({ ...broken, rev: 1 }));

  const logs: string[] = [];
  const manager = new ReconcileManager({
    store: f.store, lease: f.lease, redis: f.redis, blockingRedis: f.connect(), keys: f.keys, serverId: "srv-iso",
    graceMs: 30_000, tickMs: 500, leaseTtlMs: 5_000, log: (msg, fields) => logs.push(`${msg} ${JSON.stringify(fields ?? {})}`),
  });
  manager.start();
  t.teardown(() => manager.stop());

  const recorded = await waitFor(async () => (await f.store.getEnvironment(sick.id))?.reconcileError, { what: "the error recorded on the sick environment", timeoutMs: 10_000 });
  t.match(recorded, { code: "InvalidField", message: /service 1sbroken .*spec: expected an object, got nothing/, failures: Number });
  t.ok(Date.parse(recorded.retryAt) > Date.parse(recorded.since), "it says when the next try is");

  // The other environments keep reacting to changes, round after round, while it fails.
  const latencies: number[] = [];
  const passesBefore = new Map(others.map((e) => [e.id, manager.passesOf(e.id)]));
  for (let round = 1; round <= 3; round++) {
    for (const e of others) {
      const t0 = Date.now();
      await f.store.write(e.id, { put: [{ kind: "service", record: service(e.id, `1s${round}`, round) }] });
      await waitFor(async () => (await f.store.list(e.id, "instance")).filter((i) => i.serviceId === `1s${round}`).length === round,
        { what: `round ${round}: ${round} instance(s) placed in ${e.id}`, timeoutMs: 5_000 });
      latencies.push(Date.now() - t0);
    }
  }
  t.ok(latencies.every((ms) => ms < 5_000), `every change in the healthy environments was acted on (${latencies.join(", ")} ms)`);
  for (const e of others) {
    // At least one pass per round (a round's write may also be taken in with a pass already due:
    // a fixed total of 6 failed once on 5).
    const ran = manager.passesOf(e.id) - passesBefore.get(e.id)!;
    t.ok(ran >= 3, `${e.id} ran a pass per round at least (${ran} in 3 rounds)`);
    t.notOk((await f.store.getEnvironment(e.id))?.reconcileError, `${e.id} has no error`);
  }

  // Backed off: far fewer failed passes than ticks (1 s, 2 s, 4 s, ... between them).
  const elapsedMs = Date.now() - Date.parse(recorded.since);
  const failures = (await f.store.getEnvironment(sick.id))!.reconcileError!.failures;
  t.ok(failures <= Math.log2(elapsedMs / 1000 + 1) + 2, `${failures} failed passes in ${elapsedMs} ms`);

  // The API shows it.
  const shown = presentEnvironment((await f.store.getEnvironment(sick.id))!, makeUrls("http://drover.test"), false);
  t.match(shown, { reconcileError: { code: "InvalidField", message: /1sbroken/ } });

  // Once the record is repaired (here: removed), the next pass clears the error.
  await f.redis.hdel(f.keys.env(sick.id).services, "1sbroken");
  await f.redis.incr(f.keys.env(sick.id).rev);
  await waitFor(async () => (await f.store.getEnvironment(sick.id))?.reconcileError === undefined,
    { what: "the error cleared after the repair", timeoutMs: 70_000 });
  t.ok(logs.some((l) => l.startsWith("reconcile passes work again")), "recovery logged");
});
