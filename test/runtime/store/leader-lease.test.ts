import t from "tap";
import { createEnv, droverError, host, pollUntil, stack, storeFixture } from "./store-fixture";

// LeaderLease and the fences that write/setDesired check.

t.test("one leader at a time; renewing keeps the fence; release lets the next take a new fence", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  const a = await f.lease.acquireOrRenew("e1", "server-a", 10_000);
  t.same(a, { leader: true, fence: 1 }, "A takes the free lease with fence 1");
  t.same(await f.lease.acquireOrRenew("e1", "server-b", 10_000), { leader: false, holder: "server-a" }, "B is told A leads");
  t.same(await f.lease.acquireOrRenew("e1", "server-a", 10_000), { leader: true, fence: 1 }, "A renews, same fence");
  t.equal(await f.redis.get(f.keys.env("e1").leader), "server-a:1", "lease value is <serverId>:<fence>");

  t.equal(await f.lease.release("e1", "server-b"), false, "B cannot release A's lease");
  t.equal(await f.lease.release("e1", "server-a"), true, "A releases its lease");
  t.same(await f.lease.acquireOrRenew("e1", "server-b", 10_000), { leader: true, fence: 2 }, "B takes it with the next fence");
});

t.test("renewing extends the lease's TTL", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  await f.lease.acquireOrRenew("e1", "server-a", 1_000);
  await f.lease.acquireOrRenew("e1", "server-a", 60_000);
  t.ok((await f.redis.pttl(f.keys.env("e1").leader)) > 1_000, "TTL follows the renewal");
});

t.test("server ids containing ':' are parsed from the right", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  t.same(await f.lease.acquireOrRenew("e1", "host:4000", 10_000), { leader: true, fence: 1 });
  t.same(await f.lease.acquireOrRenew("e1", "host:4000", 10_000), { leader: true, fence: 1 }, "renewal recognises the holder");
  t.same(await f.lease.acquireOrRenew("e1", "host", 10_000), { leader: false, holder: "host:4000" }, "a prefix of the id is someone else");
});

t.test("a stale leader's fenced writes are refused after its lease expired and passed on", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  await f.store.write("e1", { put: [{ kind: "host", record: host("e1", "h1") }] });

  const a = await f.lease.acquireOrRenew("e1", "server-a", 100);
  t.ok(a.leader, "A leads");
  t.equal(await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s0") }] }, { fence: a.fence }), 3, "A's fenced write while it leads");

  await pollUntil("A's lease to expire", async () => (await f.redis.exists(f.keys.env("e1").leader)) === 0);
  const b = await f.lease.acquireOrRenew("e1", "server-b", 10_000);
  t.ok(b.leader, "B takes over");
  t.ok(b.fence! > a.fence!, "with a higher fence");
  t.same(await f.lease.acquireOrRenew("e1", "server-a", 100), { leader: false, holder: "server-b" }, "A learns it lost the lease");

  const revBefore = await f.redis.get(f.keys.env("e1").rev);
  const stale = await droverError(f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s1", "from-a") }] }, { fence: a.fence }), "NotLeader");
  t.equal(stale.retryable, true, "NotLeader (another server can do it)");
  t.equal(await f.store.get("e1", "stack", "s1"), undefined, "A's write left nothing");
  t.equal(await f.redis.get(f.keys.env("e1").rev), revBefore, "nor moved the rev");
  await droverError(f.store.setDesired("e1", { hostId: "h1", generation: 0, instances: [] }, { fence: a.fence }), "NotLeader");
  t.equal(await f.store.getDesired("e1", "h1"), undefined, "A's setDesired is refused too");

  await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s1", "from-b") }] }, { fence: b.fence });
  t.equal((await f.store.get("e1", "stack", "s1"))?.name, "from-b", "B's write succeeds");
  t.equal(await f.store.setDesired("e1", { hostId: "h1", generation: 0, instances: [] }, { fence: b.fence }), 1, "so does B's setDesired");
});

t.test("a fenced write without any lease is NotLeader", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  await droverError(f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s1") }] }, { fence: 1 }), "NotLeader");
  t.equal(await f.store.get("e1", "stack", "s1"), undefined, "nothing written");
  t.equal(await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s1") }] }), 2, "an unfenced write (API) needs no lease");
});

t.test("no lease for an environment that does not exist (or was purged)", async (t) => {
  const f = storeFixture(t);
  await droverError(f.lease.acquireOrRenew("e1", "server-a", 1000), "NotFound");
  await createEnv(f);
  t.ok((await f.lease.acquireOrRenew("e1", "server-a", 60_000)).leader, "leads while the environment exists");
  await f.store.purgeEnvironment("e1");
  await droverError(f.lease.acquireOrRenew("e1", "server-a", 1000), "NotFound");
  t.equal(await f.redis.exists(f.keys.env("e1").leader, f.keys.env("e1").fence), 0, "the purged environment's lease keys stay gone");
});

t.test("lease arguments are checked", async (t) => {
  const f = storeFixture(t);
  await droverError(f.lease.acquireOrRenew("e1", "", 1000), "InvalidField");
  await droverError(f.lease.acquireOrRenew("e1", "a", 0), "InvalidField");
  await droverError(f.store.write("e1", {}, { fence: 0 }), "InvalidField");
  t.pass("refused");
});
