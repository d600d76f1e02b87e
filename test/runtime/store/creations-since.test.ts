import t from "tap";
import { createEnv, droverError, host, stack, storeFixture } from "./store-fixture";

// WriteOptions.creationsSince: a write planned at an older revision goes through when every
// write since only created records (the reconcile pass under a flood of registrations or API
// creations), and is refused as before when anything was updated or removed since.

const newStack = (id: string, name: string) => ({ put: [{ kind: "stack" as const, record: stack("e1", id, name) }] });

t.test("after writes that only created records: written, on the revision it found", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  const planned = await f.store.write("e1", newStack("s1", "one"));
  // Another writer creates a stack, and a machine registers: creations only.
  await f.store.write("e1", newStack("s2", "two"));
  const registered = await f.store.registerHost("e1", host("e1", "h1", "one", { machineId: "m1" }), undefined);
  t.equal(registered, planned + 2, "two writes since");

  await droverError(f.store.write("e1", newStack("s3", "three"), { expectRev: planned }), "RevisionMismatch");
  const written = await f.store.writeOn("e1", newStack("s3", "three"), { expectRev: planned, creationsSince: true });
  t.same(written, { rev: planned + 3, onRev: planned + 2 }, "written, and says it found the revision two writes on");
  t.ok(await f.store.get("e1", "stack", "s3"), "the record is there");

  const exact = await f.store.writeOn("e1", newStack("s4", "four"), { expectRev: written.rev, creationsSince: true });
  t.same(exact, { rev: written.rev + 1, onRev: written.rev }, "with nothing between: on the revision expected");
});

t.test("an update or removal since refuses it, even amid creations", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  const s1 = stack("e1", "s1", "one");
  const planned = await f.store.write("e1", { put: [{ kind: "stack", record: s1 }] });
  const opts = { expectRev: planned, creationsSince: true };

  await f.store.write("e1", newStack("s2", "two"));
  await f.store.write("e1", { put: [{ kind: "stack", record: { ...s1, description: "changed" } }] }); // an update
  await f.store.write("e1", newStack("s3", "three"));
  await droverError(f.store.write("e1", newStack("s9", "nine"), opts), "RevisionMismatch");
  t.equal(await f.store.get("e1", "stack", "s9"), undefined, "an update two writes back: refused, nothing written");

  const later = Number(await f.redis.get(f.keys.env("e1").rev));
  await f.store.write("e1", { remove: [{ kind: "stack", id: "s3" }] });
  await droverError(f.store.write("e1", newStack("s9", "nine"), { expectRev: later, creationsSince: true }), "RevisionMismatch");

  const mixed = Number(await f.redis.get(f.keys.env("e1").rev));
  await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s5", "five") }, { kind: "stack", record: { ...s1, description: "again" } }] });
  await droverError(f.store.write("e1", newStack("s9", "nine"), { expectRev: mixed, creationsSince: true }), "RevisionMismatch",
  );
  t.equal(await f.store.get("e1", "stack", "s9"), undefined, "a batch that created and updated counts as an update");

  // A machine registering again updates its host record.
  await f.store.registerHost("e1", host("e1", "h1", "one", { machineId: "m1" }), undefined);
  const afterNew = Number(await f.redis.get(f.keys.env("e1").rev));
  const h1 = (await f.store.hostOfMachine("e1", "m1"))!;
  await f.store.registerHost("e1", { ...h1, labels: { again: "yes" } }, h1);
  await droverError(f.store.write("e1", newStack("s9", "nine"), { expectRev: afterNew, creationsSince: true }), "RevisionMismatch");
  t.equal(await f.store.get("e1", "stack", "s9"), undefined, "a re-registration counts as an update");
});

t.test("without creationsSince, and for the revision itself, nothing changes", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  const planned = await f.store.write("e1", newStack("s1", "one"));
  t.equal(await f.store.write("e1", newStack("s2", "two"), { expectRev: planned, creationsSince: true }), planned + 1, "the current revision is accepted");
  await droverError(f.store.write("e1", newStack("s3", "three"), { expectRev: planned + 5, creationsSince: true }), "RevisionMismatch");
  t.equal(await f.store.get("e1", "stack", "s3"), undefined, "a revision from the future is refused");
});
