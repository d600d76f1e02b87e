import t from "tap";
import { runFailover } from "../../../bench/support/failover-run";

/**
 * Redis Sentinel: `drover server` and simulated agents (the agent's own Redis options, each
 * as its own ACL user) on a redis+sentinel:// URL; a primary, two replicas and three real
 * redis-sentinel processes on loopback. The primary is SIGKILLed under API writes.
 * Heavy-ish (several processes, ~40 s for both): run under labslot.
 */
t.setTimeout(240_000);
t.test("the primary killed under load: writes resume within 5 s, nothing acknowledged is lost, agents follow", async (t) => {
  const r = await runFailover({ hosts: 4, instances: 8, writers: 4 });
  t.comment(JSON.stringify({ ...r, lost: r.lost.length }));
  t.same(r.usersPerNode, [4, 4, 4], "every host's ACL user on the primary and on both replicas");
  t.ok(r.refusedMs <= 5000, `writes acknowledged again ${Math.round(r.refusedMs)} ms after the kill (goal <= 5000)`);
  t.ok(r.acked > 40, "writes were acknowledged before and after");
  t.same(r.lost, [], "every acknowledged write is on the new primary");
  t.equal(r.hostsOnNewPrimary, r.hosts, "every agent heartbeats on the new primary");
  t.equal(r.instances, 8, "instances were active before");
  t.equal(r.instancesMoved, 0, "no instance moved or was lost");
  t.ok(r.registeredAfter, "a new host registers after the failover");
  t.equal(r.unanswered, 0, "every API write got an answer (an error counts): none held on a Redis command across the failover");
});

// Was skipped in the suite: with another test file alongside, the server's client ended for
// good after the switch (every write "Connection is closed.") in 3 of 4 runs; the cause and the
// fix are in runtime/protocol/redis-revive.ts (test/runtime/store/sentinel-revive.test.ts).
t.test("the same over TLS (rediss+sentinel://): client certificates to the sentinels and the nodes, replication over TLS", async (t) => {
  const r = await runFailover({ hosts: 2, instances: 4, writers: 2, tls: true });
  t.comment(JSON.stringify({ ...r, lost: r.lost.length }));
  t.same(r.usersPerNode, [2, 2, 2], "every host's ACL user on every node");
  t.ok(r.refusedMs <= 5000, `writes acknowledged again ${Math.round(r.refusedMs)} ms after the kill (goal <= 5000)`);
  t.same(r.lost, [], "every acknowledged write is on the new primary");
  t.equal(r.hostsOnNewPrimary, r.hosts, "every agent, with its own client certificate, heartbeats on the new primary");
  t.equal(r.instancesMoved, 0, "no instance moved or was lost");
  t.ok(r.registeredAfter, "a new host registers after the failover");
  t.equal(r.unanswered, 0, "every API write got an answer (an error counts): none held on a Redis command across the failover");
});
