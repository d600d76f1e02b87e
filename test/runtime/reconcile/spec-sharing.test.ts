import t from "tap";
import { readSnapshot } from "../../../runtime/reconcile/snapshot-cache";
import { newPassCache } from "../../../runtime/reconcile/pass-cache";
import { createEnv, host, instance, service, stack, storeFixture } from "../store/store-fixture";

// A leader's fresh read (snapshot-cache.ts shareEqualSpecs): instances whose specs are the
// same text share one spec object, as the instances a pass places do; the records are
// otherwise exactly what is stored.
t.test("a fresh read shares equal specs, keeps different ones apart, and changes no record", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  const same = (id: string) => instance("e1", id, "v1", "st1", "h1");
  const other = { ...instance("e1", "i3", "v1", "st1", "h1"), spec: { ...same("x").spec, image: "nginx:1.27" } };
  await f.store.write("e1", {
    put: [{ kind: "stack", record: stack("e1", "st1", "app") }, { kind: "service", record: service("e1", "v1", "st1", "web") }, { kind: "host", record: host("e1", "h1", "one") },
      { kind: "instance", record: same("i1") }, { kind: "instance", record: same("i2") }, { kind: "instance", record: other }, { kind: "instance", record: same("i4") }],
  });
  const stored = await f.store.list("e1", "instance");
  const cache = newPassCache();
  const { snapshot, fresh } = await readSnapshot(f.store, f.redis, f.keys, "e1", cache.snapshot);
  t.ok(fresh, "read from Redis");
  const byId = new Map(snapshot.instances.map((i) => [i.id, i]));
  t.equal(byId.get("i1")!.spec, byId.get("i2")!.spec, "equal specs: one object");
  t.equal(byId.get("i1")!.spec, byId.get("i4")!.spec, "the third one too");
  t.not(byId.get("i1")!.spec, byId.get("i3")!.spec, "a different spec keeps its own");
  t.same(snapshot.instances, stored, "every record as stored");
  const again = await readSnapshot(f.store, f.redis, f.keys, "e1", cache.snapshot);
  t.notOk(again.fresh, "the next read comes from the cache");
  t.equal(again.snapshot.instances.find((i) => i.id === "i2")!.spec, byId.get("i1")!.spec, "sharing what the fresh read shared");
});
