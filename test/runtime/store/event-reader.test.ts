import t from "tap";
import { createEnv, stack, storeFixture } from "./store-fixture";

// openEventReader: the API's view of an environment's events stream.

t.test("a reader sees only events after latestId, waits for new ones, and stops on close", async (t) => {
  const f = storeFixture(t);
  const reader = f.store.openEventReader("e1");
  t.teardown(() => reader.close());
  t.equal(await reader.latestId(), "0-0", "empty stream: 0-0");

  await createEnv(f);
  const from = await reader.latestId();
  t.not(from, "0-0", "the creation event is the newest");
  t.same(await reader.read(from, 1), [], "nothing newer: [] after the block timeout");

  const waiting = reader.read(from, 10_000);
  await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s1") }, { kind: "stack", record: stack("e1", "s2") }] });
  const events = await waiting;
  t.same(events.map((e) => e.fields), [
    { type: "stack", action: "created", id: "s1", rev: "2" },
    { type: "stack", action: "created", id: "s2", rev: "2" },
  ], "a blocked read wakes with the write's events");
  t.ok(events.every((e) => /^\d+-\d+$/.test(e.id)), "entries carry their stream ids");

  const pending = reader.read(events[1].id, 10_000);
  await reader.close();
  t.same(await pending, [], "a read pending at close resolves []");
  t.same(await reader.read("0-0", 0), [], "reads after close return [] at once");
});
