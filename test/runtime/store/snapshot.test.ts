import t from "tap";
import { RedisStore } from "../../../runtime/store/redis-store";
import { createEnv, droverError, stack, service, storeFixture } from "./store-fixture";

// snapshot: one consistent read of an environment while writers keep writing.

t.test("snapshots never see half a batch, and match the rev they report", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  const writer = new RedisStore(f.connect(), f.keys);
  const reader = new RedisStore(f.connect(), f.keys);
  const batches = 60;
  let writing = true;

  // Every batch writes one stack and one service: a consistent view has as many of each.
  const writes = (async () => {
    for (let i = 0; i < batches; i++) {
      await writer.write("e1", { put: [{ kind: "stack", record: stack("e1", `s${i}`) }, { kind: "service", record: service("e1", `sv${i}`, `s${i}`) }] });
    }
    writing = false;
  })();
  let snapshots = 0, inconsistent = 0;
  while (writing || snapshots === 0) {
    const snap = await reader.snapshot("e1");
    snapshots++;
    const revs = [...snap.stacks, ...snap.services].map((r) => r.rev);
    const consistent = snap.stacks.length === snap.services.length
      && snap.stacks.length === snap.rev - 1
      && revs.every((r) => r <= snap.rev)
      && (revs.length === 0 || Math.max(...revs) === snap.rev);
    if (!consistent) inconsistent++;
  }
  await writes;
  t.equal(inconsistent, 0, `all ${snapshots} snapshots consistent`);

  const final = await f.store.snapshot("e1");
  t.equal(final.rev, batches + 1, "final rev");
  t.equal(final.env.id, "e1", "carries the environment");
  t.same(final.stacks.map((s) => s.id), Array.from({ length: batches }, (_, i) => `s${i}`).sort(), "all stacks");
  t.same(final.hosts, [], "empty kinds are empty lists");
});

t.test("snapshot of an unknown environment is NotFound", async (t) => {
  const f = storeFixture(t);
  await droverError(f.store.snapshot("e404"), "NotFound");
  t.pass();
});
