import t from "tap";
import { checkCadence, environmentCadence, MAX_STRETCH } from "../../../runtime/protocol/heartbeat-cadence";
import { planEnvironment } from "../../../runtime/reconcile/plan";
import { desiredDigest } from "../../../runtime/reconcile/desired-docs";
import { parseDesired } from "../../../agent/desired";
import { host, input } from "./fixtures";
import type { EnvironmentRecord, HostRecord } from "../../../runtime/protocol/model";
import { ReconcileManager } from "../../../runtime/reconcile/manager";
import { storeFixture } from "../store/store-fixture";
import { waitFor } from "../../support/wait";

// A large environment's hosts beat less often (runtime/protocol/heartbeat-cadence.ts): the
// registration's cadence up to the budget, then stretched by whole factors, at most MAX_STRETCH
// times; every desired document of the environment carries it, and the agent refuses a bad one.

const base = { intervalMs: 1_000, ttlMs: 3_500 };
const budget = { base, beatsPerSecond: 1_000 };

t.test("the registration's cadence up to the budget, then stretched by whole factors", async (t) => {
  t.equal(environmentCadence(0, budget), undefined, "no hosts");
  t.equal(environmentCadence(1_000, budget), undefined, "1,000 hosts beating each second: within the budget");
  t.same(environmentCadence(1_001, budget), { intervalMs: 2_000, ttlMs: 7_000 }, "one more: every 2 s");
  t.same(environmentCadence(1_250, budget), { intervalMs: 2_000, ttlMs: 7_000 }, "bench scale's 1,250 hosts per environment");
  t.same(environmentCadence(5_000, budget), { intervalMs: 5_000, ttlMs: 17_500 });
  t.same(environmentCadence(1_000_000, budget), { intervalMs: MAX_STRETCH * 1_000, ttlMs: MAX_STRETCH * 3_500 }, `at most ${MAX_STRETCH} times`);
  // A faster base (tests) counts its own beats: 100 hosts beating every 200 ms are 500 a second.
  t.same(environmentCadence(100, { base: { intervalMs: 200, ttlMs: 700 }, beatsPerSecond: 250 }), { intervalMs: 400, ttlMs: 1_400 });
});

t.test("a cadence from a document: whole milliseconds, a beat inside its TTL, at most 10 minutes", async (t) => {
  t.same(checkCadence({ intervalMs: 2_000, ttlMs: 7_000 }, "heartbeat"), { intervalMs: 2_000, ttlMs: 7_000 });
  for (const bad of [null, "2s", {}, { intervalMs: 2_000 }, { intervalMs: 0, ttlMs: 10 }, { intervalMs: 5_000, ttlMs: 5_000 },
    { intervalMs: 1.5, ttlMs: 10 }, { intervalMs: 1_000, ttlMs: 600_001 }]) {
    t.throws(() => checkCadence(bad, "heartbeat"), /^heartbeat: expected \{ intervalMs, ttlMs \}/, JSON.stringify(bad));
  }
  const doc = (heartbeat: unknown) => JSON.stringify({ hostId: "h1", generation: 3, instances: [], heartbeat });
  t.same(parseDesired(doc({ intervalMs: 2_000, ttlMs: 7_000 }), "h1").heartbeat, { intervalMs: 2_000, ttlMs: 7_000 }, "the agent takes a good one");
  t.throws(() => parseDesired(doc({ intervalMs: -1, ttlMs: 7_000 }), "h1"), /desired state heartbeat: expected/, "and refuses the whole document with a bad one");
});

t.test("every desired document of an environment over the budget carries its cadence; under it, none does", async (t) => {
  const hosts = [host("h1", {}, { subnet: "10.42.1.0/24" }), host("h2", {}, { subnet: "10.42.2.0/24" }), host("h3", {}, { subnet: "10.42.3.0/24" })];
  const without = planEnvironment(input({ hosts }));
  t.equal(without.desired.length, 3);
  for (const doc of without.desired) t.notOk("heartbeat" in doc, `${doc.hostId}: no budget, no cadence`);

  const within = planEnvironment({ ...input({ hosts }), heartbeat: { base, beatsPerSecond: 3 } });
  for (const doc of within.desired) t.notOk("heartbeat" in doc, `${doc.hostId}: 3 hosts within a budget of 3 beats a second`);
  t.same(within.desiredDigests, without.desiredDigests, "and the digests are the ones without a budget");

  // A removed host does not count; a disconnected one does (a short outage rewrites no document).
  const over = planEnvironment({ ...input({ hosts: [...hosts, host("h4", {}, { state: "removed" })] }), heartbeat: { base, beatsPerSecond: 2 } });
  t.equal(over.desired.length, 3);
  for (const doc of over.desired) {
    t.same(doc.heartbeat, { intervalMs: 2_000, ttlMs: 7_000 }, `${doc.hostId}: 3 hosts over a budget of 2 a second`);
    t.equal(over.desiredDigests!.get(doc.hostId), desiredDigest(doc), "the digest a pass takes is the written document's");
    t.not(over.desiredDigests!.get(doc.hostId), without.desiredDigests!.get(doc.hostId), "and it differs from the unstretched one");
  }
});

t.test("through the reconcile manager on a real Redis: the documents follow the environment's size", async (t) => {
  const f = storeFixture(t);
  const envId = "e-beat";
  const now = () => new Date().toISOString();
  const env: Omit<EnvironmentRecord, "rev"> = { id: envId, name: envId, network: { cidr: "10.42.0.0/16", hostSubnetPrefix: 24 }, state: "active", createdAt: now() };
  await f.store.createEnvironment(env, "k-beat", "t-beat");
  const addHost = async (id: string) => {
    const record: HostRecord = { id, envId, name: id, labels: {}, state: "active", deactivated: false, createdAt: now(), rev: 0 };
    await f.store.write(envId, { put: [{ kind: "host", record }] });
    await f.redis.set(f.keys.host(envId, id).heartbeat, "{}", "PX", 120_000);
  };
  await addHost("h1");
  await addHost("h2");
  const manager = new ReconcileManager({
    store: f.store, lease: f.lease, redis: f.redis, blockingRedis: f.connect(), keys: f.keys, serverId: "srv-beat",
    graceMs: 30_000, tickMs: 200, leaseTtlMs: 30_000, log: () => undefined, heartbeat: { base, beatsPerSecond: 1 },
  });
  manager.start();
  t.teardown(() => manager.stop());
  const cadences = async (ids: string[]) => Promise.all(ids.map(async (id) => (await f.store.getDesired(envId, id))?.heartbeat));
  const two = await waitFor(async () => { const c = await cadences(["h1", "h2"]); return c.every((x) => x?.intervalMs === 2_000) && c; }, { what: "both documents with the stretched cadence", timeoutMs: 10_000 });
  t.same(two, [{ intervalMs: 2_000, ttlMs: 7_000 }, { intervalMs: 2_000, ttlMs: 7_000 }], "2 hosts over a budget of 1 beat a second: every 2 s");
  await addHost("h3");
  const three = await waitFor(async () => { const c = await cadences(["h1", "h2", "h3"]); return c.every((x) => x?.intervalMs === 3_000) && c; }, { what: "every document with the cadence of 3 hosts", timeoutMs: 10_000 });
  t.same(three[0], { intervalMs: 3_000, ttlMs: 10_500 }, "a third host: every 3 s, the hosts already there too");
});
