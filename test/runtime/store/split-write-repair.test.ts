import t from "tap";
import { dropEnvironmentIndexEntries, environmentRecordJson } from "../../../runtime/store/environment-writes";
import { SplitWriteRepair } from "../../../runtime/store/split-write-repair";
import { createEnv, envRecord, storeFixture } from "./store-fixture";

/**
 * Environment writes run as one-slot steps, global entries first (environment-writes.ts).
 * Each case here leaves the state a crash between two steps leaves, written by hand, and
 * checks the repair pass finishes or undoes it, and touches nothing else.
 */

t.test("a half-created environment is finished: its key and token work, it is listed with rev 1", async (t) => {
  const f = storeFixture(t);
  // The global half only: index claims, then the record (a crash before the per-env script).
  await f.redis.hset(f.keys.apiKeys(), "key-h", "half");
  await f.redis.hset(f.keys.registrationTokens(), "token-h", "half");
  await f.redis.hset(f.keys.environments(), "half", environmentRecordJson(envRecord("half"), 1));
  await createEnv(f, "whole");
  await f.store.snapshot("half").then(() => t.fail("no snapshot before the repair"), (err) => t.equal(err.code, "NotFound", "snapshot: NotFound meanwhile"));
  const repair = new SplitWriteRepair(f.redis, f.keys, (id) => f.store.purgeEnvironment(id), () => undefined);
  const report = await repair.repairOnce();
  t.same(report.finished, ["half"], "finished");
  const snap = await f.store.snapshot("half");
  t.equal(snap.rev, 1, "rev 1");
  t.same((await f.store.listRegistrationTokens("half")).map((x) => x.tokenHash), ["token-h"], "its token listed");
  t.ok(await f.redis.hexists(f.keys.env("half").keys, "key-h"), "its key listed");
  t.same((await repair.repairOnce()).finished, [], "a second pass has nothing to do");
  t.equal(await f.store.envIdForApiKey("apikey-whole"), "whole", "the other environment untouched");
});

t.test("an environment purged half-way is purged again; unbacked index entries go on the second pass that sees them", async (t) => {
  const f = storeFixture(t);
  await createEnv(f, "gone");
  await createEnv(f, "kept");
  await f.store.setEnvironmentState("gone", "removing");
  // Index entries dropped, the per-env keys deleted, the record left (a crash before its HDEL).
  await dropEnvironmentIndexEntries(f.redis, f.keys, "gone");
  for (const key of Object.values(f.keys.env("gone"))) await f.redis.del(key);
  // A claim whose write failed after it (no record of "ghost", and a token "kept" never listed).
  await f.redis.hset(f.keys.apiKeys(), "key-ghost", "ghost");
  await f.redis.hset(f.keys.registrationTokens(), "token-stray", "kept");
  const repair = new SplitWriteRepair(f.redis, f.keys, (id) => f.store.purgeEnvironment(id), () => undefined);
  const first = await repair.repairOnce();
  t.same(first.purged, ["gone"], "purged again");
  t.equal(await f.store.getEnvironment("gone"), undefined, "its record is gone");
  t.equal(await f.store.envIdForApiKey("apikey-gone"), undefined, "its API key no longer resolves");
  t.same(first.droppedEntries, [], "suspect entries are kept on the first pass (a write may be between its steps)");
  t.equal(await f.store.envIdForApiKey("key-ghost"), "ghost", "still there after one pass");
  const second = await repair.repairOnce();
  t.same(second.droppedEntries.sort(), [`${f.keys.apiKeys()}/key-ghost`, `${f.keys.registrationTokens()}/token-stray`].sort(), "dropped on the second");
  t.equal(await f.store.envIdForApiKey("apikey-kept"), "kept", "the other environment's key stays");
  t.equal(await f.store.envIdForRegistrationToken("token-kept"), "kept", "and its token");
  t.equal((await f.store.snapshot("kept")).rev, 1, "and its keys");
});

t.test("a record whose claims were undone is removed; an update that lost its race leaves the record as it was", async (t) => {
  const f = storeFixture(t);
  await f.redis.hset(f.keys.environments(), "orphan", environmentRecordJson(envRecord("orphan"), 1));
  const repair = new SplitWriteRepair(f.redis, f.keys, (id) => f.store.purgeEnvironment(id), () => undefined);
  t.same((await repair.repairOnce()).abandoned, ["orphan"]);
  t.equal(await f.store.getEnvironment("orphan"), undefined, "gone from the list");

  await createEnv(f, "e1");
  const before = await f.store.getEnvironment("e1");
  // Another server updated the record between this update's read and its compare-and-set.
  const { updateEnvironmentSplit } = await import("../../../runtime/store/environment-writes");
  t.equal(await updateEnvironmentSplit(f.redis, f.keys, "e1", before!.rev + 100, { ...before, name: "lost" }), "STALE", "refused");
  t.equal((await f.store.getEnvironment("e1"))?.name, before!.name, "the record unchanged");
  const updated = await f.store.updateEnvironment("e1", { name: "won" });
  t.ok(updated.rev > before!.rev, "a later update goes through with a newer rev");
  const snap = await f.store.snapshot("e1");
  t.ok(snap.env.rev <= snap.rev, "the snapshot's record never runs ahead of its rev");
  t.equal(snap.env.name, "won");
});
