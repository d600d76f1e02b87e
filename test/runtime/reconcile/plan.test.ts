import t from "tap";
import { buildDnsDirectory } from "../../../runtime/reconcile/dns-directory";
import type { InstanceRecord } from "../../../runtime/protocol/model";
import { planEnvironment, isEmptyPlan } from "../../../runtime/reconcile/plan";
import { env, host, input, instance, service, T0 } from "./fixtures";

const created = (plan: ReturnType<typeof planEnvironment>) =>
  plan.batch.put.filter((p) => p.kind === "instance" && (p.record as InstanceRecord).state === "requested").map((p) => p.record as InstanceRecord);
const removedIds = (plan: ReturnType<typeof planEnvironment>) => plan.batch.remove.filter((r) => r.kind === "instance").map((r) => r.id).sort();

t.test("scale 6 on 3 hosts spreads 2 per host, with names by index", async (t) => {
  const plan = planEnvironment(input({ hosts: [host("h1"), host("h2"), host("h3")], services: [service("web", { scale: 6 })] }));
  const made = created(plan);
  t.equal(made.length, 6);
  const perHost: Record<string, number> = {};
  for (const i of made) perHost[i.hostId] = (perHost[i.hostId] ?? 0) + 1;
  t.same(perHost, { h1: 2, h2: 2, h3: 2 });
  t.same(made.map((i) => i.name).sort(), ["app-web-1", "app-web-2", "app-web-3", "app-web-4", "app-web-5", "app-web-6"]);
  t.equal(plan.desired.length, 3, "each host gets a desired document");
  t.equal(plan.desired.reduce((n, d) => n + d.instances.length, 0), 6);
});

t.test("same input, same plan (deterministic)", async (t) => {
  const a = planEnvironment(input({ hosts: [host("h1"), host("h2"), host("h3")], services: [service("web", { scale: 4 })] }));
  const b = planEnvironment(input({ hosts: [host("h1"), host("h2"), host("h3")], services: [service("web", { scale: 4 })] }));
  t.same(a, b);
});

t.test("a converged environment plans nothing", async (t) => {
  const instances = [instance("i1", "web", "h1", 1), instance("i2", "web", "h2", 2)];
  const inp = input({ hosts: [host("h1"), host("h2")], services: [service("web", { scale: 2 })], instances });
  inp.desired = {
    h1: { hostId: "h1", generation: 3, instances: [{ id: "i1", name: "app-web-1", serviceId: "web", stackId: "s1", spec: instances[0].spec }] },
    h2: { hostId: "h2", generation: 3, instances: [{ id: "i2", name: "app-web-2", serviceId: "web", stackId: "s1", spec: instances[1].spec }] },
  };
  inp.observed = {
    h1: { hostId: "h1", appliedGeneration: 3, reportedAt: "x", instances: { i1: { state: "running", restartCount: 0 } } },
    h2: { hostId: "h2", appliedGeneration: 3, reportedAt: "x", instances: { i2: { state: "running", restartCount: 0 } } },
  };
  instances[0].status = { state: "running", restartCount: 0 };
  instances[1].status = { state: "running", restartCount: 0 };
  inp.dns = { version: 4, directory: buildDnsDirectory(inp.snapshot.stacks, inp.snapshot.services, instances) };
  t.ok(isEmptyPlan(planEnvironment(inp)));
});

const stoppingIds = (plan: ReturnType<typeof planEnvironment>) =>
  plan.batch.put.filter((p) => p.kind === "instance" && (p.record as InstanceRecord).stopping).map((p) => p.record.id).sort();

t.test("scale down drains the highest indexes, then removes them", async (t) => {
  const instances = [1, 2, 3, 4].map((n) => instance(`i${n}`, "web", n % 2 ? "h1" : "h2", n));
  const inp = input({ hosts: [host("h1"), host("h2")], services: [service("web", { scale: 2 })], instances });
  const plan = planEnvironment(inp);
  t.same(stoppingIds(plan), ["i3", "i4"], "marked stopping: DNS and load balancers let go first");
  t.same(removedIds(plan), [], "their containers stay for the drain");
  t.equal(created(plan).length, 0);
  t.equal(plan.wakeAt, T0 + 1000, "a pass is due when the drain ends");
  const drained = plan.batch.put.filter((p) => p.kind === "instance").map((p) => p.record as InstanceRecord);
  const later = planEnvironment(input({ hosts: [host("h1"), host("h2")], services: [service("web", { scale: 2 })], instances: [instances[0], instances[1], ...drained], now: T0 + 1000 }));
  t.same(removedIds(later), ["i3", "i4"], "gone once the drain is over");
});

t.test("a changed spec rolls out one batch at a time, replacing every instance in the end", async (t) => {
  const instances = [instance("i1", "web", "h1", 1, { status: { state: "running", restartCount: 0 } }), instance("i2", "web", "h2", 2, { status: { state: "running", restartCount: 0 } })];
  const web = service("web", { scale: 2, image: "x:2" }, { specVersion: 2 });
  const plan = planEnvironment(input({ hosts: [host("h1"), host("h2")], services: [web], instances }));
  t.same(stoppingIds(plan), ["i2"], "batch 1: one old instance drains (batchSize 1, stop first)");
  const made = created(plan);
  t.equal(made.length, 1, "and one of the new spec starts");
  t.ok(made.every((i) => i.spec.image === "x:2" && i.specVersion === 2));
  const svc = plan.batch.put.find((p) => p.kind === "service")!.record as typeof web;
  t.equal(svc.upgrade?.state, "upgrading");
  t.same(svc.upgrade?.batch?.instanceIds, made.map((i) => i.id));
});

t.test("host liveness: reconnecting at once, disconnected after the grace period, then evacuated", async (t) => {
  const instances = [instance("i1", "web", "h1", 1), instance("i2", "web", "h2", 2)];
  const services = [service("web", { scale: 2 })];
  const hb = { h1: 4000, h2: undefined };
  const first = planEnvironment(input({ hosts: [host("h1"), host("h2")], services, instances, heartbeats: hb }));
  const h2 = first.batch.put.find((p) => p.kind === "host")!.record as ReturnType<typeof host>;
  t.equal(h2.state, "reconnecting");
  t.equal(h2.reconnectingSince, new Date(T0).toISOString());
  t.same(removedIds(first), [], "a reconnecting host keeps its instances");

  const later = planEnvironment(input({ hosts: [host("h1"), h2], services, instances, heartbeats: hb, now: T0 + 30_000 }));
  const h2later = later.batch.put.find((p) => p.kind === "host")!.record as ReturnType<typeof host>;
  t.equal(h2later.state, "disconnected");
  t.same(removedIds(later), ["i2"], "the instance on the disconnected host is removed");
  const made = created(later);
  t.equal(made.length, 1);
  t.equal(made[0].hostId, "h1", "and rescheduled on a live host");

  const back = planEnvironment(input({ hosts: [host("h1"), h2later], services, instances, heartbeats: { h1: 4000, h2: 4000 } }));
  const h2back = back.batch.put.find((p) => p.kind === "host")!.record as ReturnType<typeof host>;
  t.equal(h2back.state, "active");
  t.notOk("reconnectingSince" in h2back);
});

t.test("a deactivated host is evacuated and takes nothing new", async (t) => {
  const instances = [instance("i1", "web", "h1", 1), instance("i2", "web", "h2", 2)];
  const plan = planEnvironment(input({ hosts: [host("h1"), host("h2", {}, { deactivated: true })], services: [service("web", { scale: 2 })], instances }));
  t.same(stoppingIds(plan), ["i2"], "its agent is alive: the instance is drained, not cut");
  t.same(created(plan).map((i) => i.hostId), ["h1"], "and replaced at once elsewhere");
  const lost = planEnvironment(input({ hosts: [host("h1"), host("h2", {}, { deactivated: true })], services: [service("web", { scale: 2 })], instances, heartbeats: { h1: 5000 }, graceMs: 0 }));
  t.same(removedIds(lost), ["i2"], "a deactivated host that is also gone loses it at once");
});

t.test("an impossible placement marks the service with per-host reasons and places what it can", async (t) => {
  const svc = service("web", { scale: 2, labels: { "io.rancher.scheduler.affinity:host_label": "zone=a" } });
  const plan = planEnvironment(input({ hosts: [host("h1", { zone: "a" }), host("h2", { zone: "b" })], services: [svc] }));
  t.equal(created(plan).length, 2, "both go to the one host that matches");
  const anti = service("db", { scale: 3, labels: { "io.rancher.scheduler.affinity:container_label_ne": "io.rancher.stack_service.name=app/db" } });
  const plan2 = planEnvironment(input({ hosts: [host("h1"), host("h2")], services: [anti] }));
  t.equal(created(plan2).length, 2);
  const rec = plan2.batch.put.find((p) => p.kind === "service")!.record as ReturnType<typeof service>;
  t.equal(rec.transitioning, "error");
  t.match(rec.transitioningMessage, /h1/);
  t.match(rec.transitioningMessage, /h2/);
});

t.test("global services: one per active host", async (t) => {
  const plan = planEnvironment(input({ hosts: [host("h1"), host("h2"), host("h3", {}, { deactivated: true })], services: [service("agent", { global: true })] }));
  t.same(created(plan).map((i) => i.hostId).sort(), ["h1", "h2"]);
});

t.test("observed reports move instance states", async (t) => {
  const inp = input({ hosts: [host("h1")], services: [service("web")], instances: [instance("i1", "web", "h1", 1, { state: "requested" })] });
  inp.observed = { h1: { hostId: "h1", appliedGeneration: 1, reportedAt: "x", instances: { i1: { state: "running", containerId: "c1", restartCount: 0 } } } };
  const plan = planEnvironment(inp);
  const rec = plan.batch.put.find((p) => p.kind === "instance")!.record as InstanceRecord;
  t.equal(rec.state, "active");
  t.equal(rec.status?.containerId, "c1");
});

t.test("removing a service or stack removes its instances, then the records", async (t) => {
  const instances = [instance("i1", "web", "h1", 1)];
  const inp = input({ hosts: [host("h1")], services: [service("web", {}, { state: "removing" })], instances });
  inp.desired = { h1: { hostId: "h1", generation: 1, instances: [{ id: "i1", name: "app-web-1", serviceId: "web", stackId: "s1", spec: instances[0].spec }] } };
  const plan = planEnvironment(inp);
  t.same(removedIds(plan), ["i1"]);
  t.ok(plan.batch.remove.some((r) => r.kind === "service" && r.id === "web"));
  t.same(plan.desired, [{ hostId: "h1", instances: [] }]);
});

t.test("environment teardown nudges live hosts, purges when all are done", async (t) => {
  const inp = input({ hosts: [host("h1"), host("h2")], env: env("removing") });
  const plan = planEnvironment(inp);
  t.same(plan.teardownHosts.sort(), ["h1", "h2"]);
  t.notOk(plan.purge);
  inp.teardownDone = { h1: true, h2: true };
  const done = planEnvironment(inp);
  t.same(done.teardownHosts, []);
  t.ok(done.purge);
});

t.test("a host being removed is torn down, then its record goes", async (t) => {
  const inp = input({ hosts: [host("h1"), host("h2", {}, { state: "removing" })], services: [service("web", { scale: 1 })], instances: [instance("i1", "web", "h2", 1)] });
  const plan = planEnvironment(inp);
  t.same(plan.teardownHosts, ["h2"], "its agent is told to clean up");
  t.same(removedIds(plan), ["i1"], "its instance is removed");
  t.same(created(plan).map((i) => i.hostId), ["h1"], "and replaced on another host");
  t.same(plan.removedHosts, []);
  inp.teardownDone = { h2: true };
  const done = planEnvironment(inp);
  t.ok(done.batch.remove.some((r) => r.kind === "host" && r.id === "h2"), "then the record is removed");
  t.same(done.removedHosts, ["h2"]);
});
