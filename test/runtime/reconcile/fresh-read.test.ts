import t, { type Test } from "tap";
import { ReconcileManager } from "../../../runtime/reconcile/manager";
import { freshReadPeriodMs, MAX_FRESH_READ_STRETCH, RECORDS_PER_PERIOD } from "../../../runtime/reconcile/fresh-read";
import { storeFixture } from "../store/store-fixture";
import { waitFor } from "../../support/wait";
import { seedTwoHostWebEnvironment } from "./seed-store";

// The safety net's whole read (the leader's cache dropped) comes every fullPassMs in a small
// environment and less often in a large one: one more period per RECORDS_PER_PERIOD records.

t.test("the period: the base up to 10,000 records, one more per 10,000, at most 10 times", async (t) => {
  t.equal(RECORDS_PER_PERIOD, 10_000);
  t.equal(freshReadPeriodMs(30_000, 0), 30_000, "nothing kept yet: the base");
  t.equal(freshReadPeriodMs(30_000, 10_000), 30_000, "10,000 records: the base");
  t.equal(freshReadPeriodMs(30_000, 10_001), 60_000, "one more: twice");
  t.equal(freshReadPeriodMs(30_000, 26_255), 90_000, "1,250 hosts and 25,005 instances (bench scale): 90 s");
  t.equal(freshReadPeriodMs(30_000, 5_000_000), 30_000 * MAX_FRESH_READ_STRETCH, "capped");
  t.equal(freshReadPeriodMs(300, 6, 2), 900, "a smaller step");
});

const f = storeFixture(t);
const TICK_MS = 50;
const FULL_PASS_MS = 300;

/** A manager leading a settled two-host environment of 4 instances (6 records), reading it whole every `recordsPerPeriod`-stretched period. */
async function leading(t: Test, envId: string, recordsPerPeriod?: number) {
  await seedTwoHostWebEnvironment(f, envId, 4);
  const manager = new ReconcileManager({
    store: f.store, lease: f.lease, redis: f.redis, blockingRedis: f.connect(), keys: f.keys, serverId: `srv-${envId}`,
    graceMs: 30_000, tickMs: TICK_MS, fullPassMs: FULL_PASS_MS, leaseTtlMs: 30_000, log: () => undefined,
    ...(recordsPerPeriod !== undefined ? { freshReadRecordsPerPeriod: recordsPerPeriod } : {}),
  });
  manager.start();
  t.teardown(() => manager.stop());
  await waitFor(async () => (await f.store.list(envId, "instance")).length === 4, { what: "four instances placed", timeoutMs: 10_000 });
  return manager;
}

/** The gaps (ms) between `count` + 1 consecutive whole reads the timer forced, as seen by polling the manager's counter every 10 ms. */
async function gapsBetweenFreshReads(manager: ReconcileManager, envId: string, count: number, periodMs: number): Promise<number[]> {
  const at: number[] = [];
  let seen = manager.freshReadsOf(envId);
  await waitFor(() => {
    const now = manager.freshReadsOf(envId);
    if (now > seen) { at.push(Date.now()); seen = now; }
    return at.length > count;
  }, { what: `${count + 1} whole reads`, timeoutMs: (count + 2) * periodMs * 3 + 5_000, intervalMs: 10, maxIntervalMs: 10 });
  return at.slice(1).map((x, i) => x - at[i]);
}

t.test("on a real Redis: a small environment is read whole every period, a large one every third", async (t) => {
  const small = await leading(t, "e-fresh-small");
  const s = await gapsBetweenFreshReads(small, "e-fresh-small", 3, FULL_PASS_MS);
  // Gaps are seen through a 10 ms poll on a busy event loop: each may be off by tens of ms.
  const SLACK_MS = 150;
  const median = [...s].sort((x, y) => x - y)[1];
  t.ok(median < 3 * FULL_PASS_MS - SLACK_MS, `small (6 records): whole reads ${s.join(", ")} ms apart (period ${FULL_PASS_MS} ms: not stretched)`);

  // 2 hosts + 4 instances at 2 records per period: 3 periods, 900 ms.
  const large = await leading(t, "e-fresh-large", 2);
  const l = await gapsBetweenFreshReads(large, "e-fresh-large", 2, 3 * FULL_PASS_MS);
  t.ok(l.every((g) => g >= 3 * FULL_PASS_MS - SLACK_MS && g < 3 * FULL_PASS_MS + 3_000), `large (6 records, 2 per period): whole reads ${l.join(", ")} ms apart (period ${3 * FULL_PASS_MS} ms)`);

  // The net still holds, at its slower pace: a desired document lost behind the leader's back
  // (no revision moved, so no pass would read it) is written again.
  const desiredKey = f.keys.host("e-fresh-large", "h1").desired;
  t.ok(await f.redis.exists(desiredKey), "h1 has its desired document");
  await f.redis.del(desiredKey);
  await waitFor(async () => (await f.redis.exists(desiredKey)) === 1, { what: "the lost desired document written again", timeoutMs: 3 * 3 * FULL_PASS_MS + 3_000 });
  t.pass("the stretched whole read wrote it again");
});
