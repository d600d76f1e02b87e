import t from "tap";
import { makeKeys } from "../../../runtime/protocol/keys";
import { updateInEnv } from "../../../runtime/api/write";
import type { OmittableList, Store } from "../../../runtime/store/store";
import { apiWith as api, storeWith } from "./reads-counted";
import { createEnv, droverError, host, instance, service, stack, storeFixture } from "../store/store-fixture";
import { apiFixture, seedEnv } from "./api-fixture";

// updateInEnv (runtime/api/write.ts): an API update of a stack, a service or a host reads no
// instances and goes through after the reconcile leader's instance writes, agents' reports and
// creations; an update of another record since makes it read and plan again; a plan that writes
// instances is refused. Through the HTTP API: those handlers, and the load balancers' (strict,
// reading instances once for their port check), never read the whole environment, and a scale-up
// or a source port is still checked against the instances placed. Stack and service creations,
// changes that check no placement and deletions read no host record either.

const describeStack = (store: Store, description: string) => updateInEnv(api(store), "e1", (snap) => {
  const current = snap.stacks.find((s) => s.id === "st1")!;
  return { batch: { put: [{ kind: "stack", record: { ...current, description } }] }, result: description };
});

async function environment(f: ReturnType<typeof storeFixture>) {
  await createEnv(f);
  await f.store.write("e1", {
    put: [{ kind: "stack", record: stack("e1", "st1", "app") }, { kind: "service", record: service("e1", "v1", "st1", "web") }, { kind: "host", record: host("e1", "h1", "one") }],
  });
}

t.test("the leader's placements, an agent's report and a creation in between: written on the first read", async (t) => {
  const f = storeFixture(t);
  await environment(f);
  const { store, reads } = storeWith(f, async () => {
    const i1 = instance("e1", "i1", "v1", "st1", "h1");
    await f.store.write("e1", { put: [{ kind: "instance", record: i1 }] });
    const [stored] = await f.store.getMany("e1", "instance", ["i1"]);
    await f.store.observeInstances("e1", [{ ...stored!, status: { state: "running" } } as typeof i1]);
    await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "st2", "other") }] });
  });
  t.equal(await describeStack(store, "kept"), "kept");
  t.equal(reads(), 1, "read and planned once");
  t.equal((await f.store.get("e1", "stack", "st1"))?.description, "kept", "the change is stored");
});

t.test("another record updated in between: read and planned again", async (t) => {
  const f = storeFixture(t);
  await environment(f);
  const { store, reads } = storeWith(f, () => f.store.write("e1", { put: [{ kind: "service", record: service("e1", "v1", "st1", "web", { transitioning: "no" }) }] }));
  t.equal(await describeStack(store, "again"), "again");
  t.equal(reads(), 2, "the first attempt lost to the service update");
});

t.test("a plan that writes instances is refused, nothing written", async (t) => {
  const f = storeFixture(t);
  await environment(f);
  const rev = Number(await f.redis.get(f.keys.env("e1").rev));
  await droverError(updateInEnv(api(f.store), "e1", () => ({ batch: { put: [{ kind: "instance", record: instance("e1", "i9", "v1", "st1", "h1") }] }, result: 1 })), "Internal");
  t.equal(Number(await f.redis.get(f.keys.env("e1").rev)), rev, "nothing written");
});

t.test("through the API: stack and service changes read no instances unless a placement is checked", async (t) => {
  const f = await apiFixture(t);
  const { env, stack: st, service: svc } = await seedEnv(f);
  // One host, the service's instance on it (its host port 8080 taken there).
  const h = host(env.id, "1hone", "one", { subnet: "10.42.1.0/24" });
  await f.store.write(env.id, { put: [{ kind: "host", record: h }] });
  await f.redis.set(makeKeys(f.prefix).host(env.id, h.id).heartbeat, "{}", "PX", 60_000);
  await f.store.write(env.id, { put: [{ kind: "instance", record: { ...instance(env.id, "1ione", svc.id, st.id, h.id), spec: { ...svc.spec } } }] });

  const snapshot = f.store.snapshot.bind(f.store);
  const snapshotWithout = f.store.snapshotWithout.bind(f.store);
  let wholeReads = 0;
  let instanceLists = 0;
  let hostReads = 0;
  const list = f.store.list.bind(f.store);
  f.store.snapshot = async (envId: string) => { wholeReads++; return snapshot(envId); };
  f.store.snapshotWithout = (async (envId: string, leaveOut: readonly OmittableList[]) => {
    if (!leaveOut.includes("hosts")) hostReads++;
    return snapshotWithout(envId, leaveOut);
  }) as typeof f.store.snapshotWithout;
  f.store.list = (async (envId: string, kind: string) => {
    if (kind === "instance") instanceLists++;
    if (kind === "host") hostReads++;
    return list(envId, kind as never);
  }) as typeof f.store.list;
  t.teardown(() => { f.store.snapshot = snapshot; f.store.snapshotWithout = snapshotWithout; f.store.list = list; });
  const call = (method: string, path: string, body: unknown) => f.call(method, `/v1/environments/${env.id}${path}`, { key: env.apiKey, body });

  t.equal((await call("PATCH", `/stacks/${st.id}`, { description: "edited" })).status, 200, "stack PATCH");
  t.equal((await call("POST", `/services/${svc.id}?action=scale`, { scale: 1 })).status, 202, "scale to the scale it has");
  t.equal((await call("POST", "/stacks", { name: "more" })).status, 201, "a stack created");
  const created = await call("POST", "/services", { stackId: st.id, name: "more", image: "local/busybox", scale: 1 });
  t.equal(created.status, 201, `a service created: ${created.text}`);
  t.equal((await call("DELETE", `/services/${created.body.id}`, undefined)).status, 202, "and deleted");
  t.equal(hostReads, 0, "none of these read a host record (1,250 of them per environment in bench scale)");
  t.equal((await call("PATCH", `/services/${svc.id}`, { env: { MODE: "x" } })).status, 200, "a spec change (a rolling upgrade)");
  t.equal((await call("PATCH", `/hosts/${h.id}`, { labels: { zone: "a" } })).status, 200, "host labels");
  t.equal((await call("POST", `/hosts/${h.id}?action=deactivate`, {})).status, 202, "host deactivated");
  t.equal((await call("POST", `/hosts/${h.id}?action=activate`, {})).status, 202, "and activated");
  const lb = await call("POST", "/loadbalancers", { stackId: st.id, name: "front", scale: 1, portRules: [{ sourcePort: 9090, protocol: "http", targetServiceId: svc.id, targetPort: 80 }] });
  t.equal(lb.status, 201, `load balancer created: ${lb.text}`);
  const taken = await call("PUT", `/loadbalancers/${lb.body.id}`, { scale: 1, portRules: [{ sourcePort: 8080, protocol: "http", targetServiceId: svc.id, targetPort: 80 }] });
  t.equal(taken.status, 409, `port 8080 is the service's on the only host: still checked against the instances (${taken.body?.message})`);
  t.equal((await call("DELETE", `/loadbalancers/${lb.body.id}`, undefined)).status, 202, "load balancer deleted");
  t.equal(wholeReads, 0, "no whole-environment read");
  const listsBefore = instanceLists;
  const refused = await call("POST", `/services/${svc.id}?action=scale`, { scale: 2 });
  t.equal(refused.status, 422, `a second instance cannot take port 8080 on the only host: ${refused.text}`);
  t.match(refused.body, { code: "Unplaceable" });
  t.equal(instanceLists, listsBefore + 1, "the scale-up read the instances once");
  t.ok(hostReads > 0, "and the hosts (a placement check needs them)");
  t.equal(wholeReads, 0, "still no whole-environment read");
  t.equal((await f.store.get(env.id, "service", svc.id))?.spec.scale, 1, "the refused scale is not stored");
});
