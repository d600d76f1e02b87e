/** The index: built once, updated incrementally, and left untouched by schedule(). */
import t from "tap";
import { DroverError, isDroverError } from "../../../runtime/protocol/errors";
import { indexSnapshot, schedule, scheduleAndCommit } from "../../../runtime/scheduler";
import { A, countsByHost, host, hostSet, inst, request, service, snapshot, tcp } from "./fixtures";

const antiSelf = service("web", { [A + "container_label_ne"]: "io.drover.service=svc-web" });

t.test("scheduleAndCommit keeps placements, so the next call sees them", async (t) => {
  const index = indexSnapshot(snapshot(host("h1"), host("h2"), host("h3")));
  const first = scheduleAndCommit(index, request(antiSelf, 2), 0);
  t.ok(first.ok);
  t.equal(index.instanceCount, 2);
  const second = scheduleAndCommit(index, request(antiSelf, 2), 0);
  t.equal(second.placements.length, 1, "only one host left without web");
  t.equal(second.unplaceable?.count, 1);
  t.same([...hostSet(first), ...hostSet(second)].sort(), ["h1", "h2", "h3"]);
  t.equal(index.instanceCount, 3);
});

t.test("committed instances get ids not already in the index", async (t) => {
  const index = indexSnapshot(snapshot(host("h1")));
  const a = scheduleAndCommit(index, request(service("web"), 2), 0);
  const b = scheduleAndCommit(index, request(service("web"), 2), 0);
  const ids = [...a.placements, ...b.placements].map((p) => p.instance.id);
  t.equal(new Set(ids).size, 4);
});

t.test("given ids and names are used for new instances", async (t) => {
  const result = schedule(snapshot(host("h1")), request(service("web"), 2, { newInstances: [{ id: "1i7", name: "shop-web-7" }] }), 0);
  t.same(result.placements[0].instance.id, "1i7");
  t.same(result.placements[0].instance.name, "shop-web-7");
  t.same(result.placements[0].instance.labels["io.rancher.stack_service.name"], "shop/web");
  t.same(result.placements[0].instance.serviceId, "svc-web");
});

t.test("schedule() leaves the index as it found it, including `placed` instances", async (t) => {
  const index = indexSnapshot(snapshot(host("h1"), host("h2")));
  const placed = [{ ...inst("web-0", { service: "svc-web", labels: { "io.drover.service": "svc-web" } }), hostId: "id-h1" }];
  const result = schedule(index, request(antiSelf, 2, { placed }), 0);
  t.same(hostSet(result), ["h2"]);
  t.equal(index.instanceCount, 0);
  t.equal(index.host("id-h1")!.total, 0);
  t.equal(index.host("id-h1")!.containerLabels.size, 0);
});

t.test("`placed` instances the snapshot already has are not counted twice", async (t) => {
  const web0 = inst("web-0", { service: "svc-web" });
  const cluster = snapshot(host("h1", {}, [web0]), host("h2"));
  const result = schedule(cluster, request(service("web"), 2, { placed: [{ ...web0, hostId: "id-h1" }] }), 0);
  t.same(countsByHost(result), { h1: 1, h2: 1 }, "h1 has 1 web, not 2");
});

t.test("removeInstance frees its port and its labels", async (t) => {
  const index = indexSnapshot(snapshot(host("h1", {}, [inst("old", { labels: { app: "db" }, ports: [tcp(80)] })])));
  const svc = service("web", { [A + "container_label_ne"]: "app=db" }, [tcp(80)]);
  t.notOk(schedule(index, request(svc, 1), 0).ok);
  t.ok(index.removeInstance("i-old"));
  t.notOk(index.removeInstance("i-old"), "second removal is a no-op");
  t.ok(schedule(index, request(svc, 1), 0).ok);
});

t.test("host state, labels, adding and removing hosts", async (t) => {
  const index = indexSnapshot(snapshot(host("h1", { zone: "a" }), host("h2", { zone: "b" })));
  const zoneA = service("web", { [A + "host_label"]: "zone=a" });
  index.setHostState("id-h1", "reconnecting");
  t.same(schedule(index, request(zoneA, 1), 0).unplaceable?.reasons.h1, ["host is reconnecting"]);
  index.setHostState("id-h1", "active");
  index.setHostLabels("id-h2", { zone: "a" });
  t.same(hostSet(schedule(index, request(zoneA, 2), 0)), ["h1", "h2"]);
  index.upsertHost(host("h3", { zone: "a" }, [inst("x", { ports: [tcp(80)] })]));
  t.equal(index.instanceCount, 1);
  t.same(hostSet(schedule(index, request(zoneA, 3), 0)), ["h1", "h2", "h3"]);
  t.ok(index.removeHost("id-h1"));
  t.equal(index.host("id-h1"), undefined);
  t.same(hostSet(schedule(index, request(zoneA, 3), 0)), ["h2", "h3"]);
  t.equal(index.instanceCount, 1);
  t.ok(index.removeHost("id-h3"));
  t.equal(index.instanceCount, 0, "the host's instances go with it");
});

t.test("bad index updates are errors", async (t) => {
  t.throws(() => indexSnapshot(snapshot(host("h1"), host("h1"))), /twice/);
  const index = indexSnapshot(snapshot(host("h1", {}, [inst("a")])));
  try {
    index.addInstance("id-h1", inst("a"));
    t.fail("duplicate instance accepted");
  } catch (err) {
    t.ok(isDroverError(err) && (err as DroverError).code === "Conflict");
  }
  t.throws(() => index.addInstance("nope", inst("b")), { code: "NotFound" });
});

t.test("a commit that throws half-way leaves nothing behind", async (t) => {
  const index = indexSnapshot(snapshot(host("h1", {}, [inst("taken")]), host("h2")));
  const newInstances = [{ id: "fresh-1" }, { id: "i-taken" }];
  t.throws(() => scheduleAndCommit(index, request(service("web"), 2, { newInstances }), 0), { code: "Conflict" });
  t.equal(index.instanceCount, 1);
  t.notOk(index.hasInstance("fresh-1"));
});

t.test("hosts sharing a name are told apart in reasons", async (t) => {
  const twin = { ...host("h1", {}, [], "disconnected"), id: "id-h1-bis" };
  const result = schedule(snapshot(host("h1", {}, [], "disconnected"), twin), request(service("web"), 1), 0);
  t.same(Object.keys(result.unplaceable!.reasons), ["h1", "h1 (id-h1-bis)"]);
});

t.test("container-name counts, built on first use, follow later adds and removals", async (t) => {
  const index = indexSnapshot(snapshot(host("h1", {}, [inst("a", { service: "svc-x", id: "a" })])));
  const slot = index.host("id-h1")!;
  t.ok(slot.containerNames.has("a"), "an instance of the snapshot, found by id once built");
  index.addInstance("id-h1", { id: "b", serviceId: "svc-x", name: "shop-b", labels: {}, ports: [] });
  t.ok(slot.containerNames.has("b") && slot.containerNames.has("shop-b"), "added after the build: by id and name");
  index.removeInstance("a");
  t.notOk(slot.containerNames.has("a"), "removed after the build: gone");
  // A container rule sees the same: `container_ne=shop-b` keeps a second instance off h1.
  const result = schedule(index, request(service("web", { [A + "container_ne"]: "shop-b" }), 1), 0);
  t.equal(result.ok, false, "h1 refused by name");
});
