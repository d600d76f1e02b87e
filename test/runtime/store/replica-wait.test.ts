import t from "tap";
import Redis from "ioredis";
import { ReplicaWait } from "../../../runtime/store/replica-wait";
import { startSentinelGroup } from "../../support/redis-sentinel";
import { waitFor } from "../../support/wait";

/**
 * WAIT on a connection of its own (runtime/store/replica-wait.ts): with the replica stopped
 * (SIGSTOP, so every WAIT takes its whole 1 s timeout), commands on the server's main
 * connection no longer queue behind it, concurrent confirmations share rounds, and once the
 * replica is back a confirmed write is on it.
 */
t.setTimeout(60_000);
t.test("a slow WAIT holds neither the main connection nor one second per pending write", async (t) => {
  const group = await startSentinelGroup({ replicas: 1, sentinels: 1 });
  t.teardown(() => group.stop());
  const [primaryPort, replicaPort] = group.dataPorts;
  const opts = { host: "127.0.0.1", port: primaryPort, maxRetriesPerRequest: 1 };
  const main = new Redis({ ...opts, enableAutoPipelining: true });
  const side = new Redis(opts);
  t.teardown(() => { main.disconnect(); side.disconnect(); });
  const wait = new ReplicaWait(main, side, "t:replica-wait", 1, 1000);
  const replicaPid = Number(/process_id:(\d+)/.exec(await group.node(replicaPort).info("server"))![1]);
  const replica = group.node(replicaPort);
  const admin = group.node(primaryPort);

  await main.set("k", "v0");
  t.equal(await wait.confirm(), 1, "replica healthy: the write is confirmed");

  /** Milliseconds a GET on main takes while `busy` runs. */
  const getLatencyDuring = async (busy: Promise<unknown>) => {
    // Measured only once a WAIT is blocked in Redis (a client whose command is wait, flag b).
    await waitFor(async () => /cmd=wait\b/.test(String(await admin.call("CLIENT", "LIST"))), { what: "a WAIT blocked in Redis", timeoutMs: 900, intervalMs: 5 });
    const started = performance.now();
    await main.get("k");
    const ms = performance.now() - started;
    await busy;
    return ms;
  };
  process.kill(replicaPid, "SIGSTOP");
  t.teardown(() => { try { process.kill(replicaPid, "SIGCONT"); } catch { /* gone */ } });
  // What it was: WAIT on main holds the GET behind it.
  await main.set("k", "v1");
  const before = await getLatencyDuring(main.call("WAIT", 1, 1000));
  t.ok(before >= 500, `WAIT on the main connection: a GET waited ${Math.round(before)} ms behind it`);

  // Now: four writes confirmed at once while the replica is stopped.
  const started = performance.now();
  const confirms = Promise.all([1, 2, 3, 4].map(async (i) => { await main.set(`k${i}`, "x"); return wait.confirm(); }));
  const during = await getLatencyDuring(confirms);
  const elapsed = performance.now() - started;
  t.ok(during < 200, `WAIT on its own connection: a GET on main took ${Math.round(during)} ms`);
  t.same(await confirms, [0, 0, 0, 0], "no replica: every confirmation says 0 (the store reports the write failed)");
  t.ok(elapsed < 2_600, `four confirmations shared rounds: ${Math.round(elapsed)} ms (one WAIT each would be 4 s)`);

  process.kill(replicaPid, "SIGCONT");
  await main.set("k", "after");
  await waitFor(async () => (await wait.confirm()) === 1, { what: "confirmation with the replica back", timeoutMs: 10_000 });
  t.equal(await replica.get("k"), "after", "a confirmed write is on the replica");
});
