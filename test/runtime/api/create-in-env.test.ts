import t from "tap";
import { createInEnv } from "../../../runtime/api/write";
import type { Store } from "../../../runtime/store/store";
import { apiWith as api, storeWith } from "./reads-counted";
import { createEnv, droverError, service, stack, storeFixture } from "../store/store-fixture";

// createInEnv (runtime/api/write.ts): an API write that creates a stack or a service reads no
// instances and goes through after other writers' creations; an update since makes it read and
// plan again; a plan that would change an existing record is refused. The write script keeps a
// service's and a load balancer's names apart, which such creations rely on.

const createService = (f: ReturnType<typeof storeFixture>, store: Store, id: string, name: string) =>
  createInEnv(api(store), "e1", (snap) => ({ batch: { put: [{ kind: "service", record: service("e1", id, "st1", name, { rev: snap.rev }) }] }, result: id }));

t.test("another writer's creations in between: written on the first read", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "st1", "app") }] });
  const { store, reads } = storeWith(f, () => f.store.write("e1", { put: [{ kind: "service", record: service("e1", "s-other", "st1", "other") }] }));
  t.equal(await createService(f, store, "s-new", "web"), "s-new");
  t.equal(reads(), 1, "read and planned once");
  t.ok(await f.store.get("e1", "service", "s-new"), "the service is stored");
});

t.test("an update in between: read and planned again", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  const app = stack("e1", "st1", "app");
  await f.store.write("e1", { put: [{ kind: "stack", record: app }] });
  const { store, reads } = storeWith(f, () => f.store.write("e1", { put: [{ kind: "stack", record: { ...app, description: "changed" } }] }));
  t.equal(await createService(f, store, "s-new", "web"), "s-new");
  t.equal(reads(), 2, "the first attempt lost to the update");
});

t.test("a plan that changes an existing record is refused, nothing written", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  const app = stack("e1", "st1", "app");
  const rev = await f.store.write("e1", { put: [{ kind: "stack", record: app }] });
  await droverError(createInEnv(api(f.store), "e1", () => ({ batch: { put: [{ kind: "stack", record: { ...app, description: "x" } }] }, result: 1 })), "Internal");
  t.equal(Number(await f.redis.get(f.keys.env("e1").rev)), rev, "nothing written");
});

t.test("a service and a load balancer of one stack cannot share a name, whoever writes first", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "st1", "app") }] });
  await f.store.write("e1", { put: [{ kind: "service", record: service("e1", "s1", "st1", "front") }] });
  const lb = { id: "lb1", envId: "e1", stackId: "st1", name: "front", state: "active", createdAt: new Date().toISOString(), rev: 0, spec: { ports: [], portRules: [], certificateIds: [] } };
  const err = await droverError(f.store.write("e1", { put: [{ kind: "loadBalancer", record: lb as never }] }), "Conflict");
  t.match(err.message, /front/, err.message);
  t.equal(await f.store.get("e1", "loadBalancer", "lb1"), undefined, "the load balancer is not stored");
  await f.store.write("e1", { put: [{ kind: "loadBalancer", record: { ...lb, id: "lb2", name: "edge" } as never }] });
  await droverError(f.store.write("e1", { put: [{ kind: "service", record: service("e1", "s2", "st1", "edge") }] }), "Conflict");
  t.equal(await f.store.get("e1", "service", "s2"), undefined, "nor the service");
});
