import t from "tap";
import type { HealthCheckSpec, ServiceRecord, ServiceSpec } from "../../../runtime/protocol/model";
import { startUpgrade } from "../../../runtime/reconcile/plan-upgrade";
import { host, input, service } from "./fixtures";
import { Sim } from "./sim";

const check: HealthCheckSpec = {
  port: 80, interval: 2000, responseTimeout: 2000, healthyThreshold: 2, unhealthyThreshold: 3,
  initializingTimeout: 20000, reinitializingTimeout: 20000, strategy: "recreate",
};
const hosts3 = () => [host("h1"), host("h2"), host("h3")];
const live = (sim: Sim, sid: string) => sim.instances.filter((i) => i.serviceId === sid && !i.stopping);

/** What the API does on a spec change (runtime/api/handlers/services.ts). */
function changeSpec(sim: Sim, id: string, patch: Partial<ServiceSpec>): void {
  const current = sim.service(id);
  const specVersion = Math.max(current.maxSpecVersion ?? current.specVersion, current.specVersion) + 1;
  const next: ServiceRecord = { ...current, spec: { ...current.spec, ...patch }, specVersion, maxSpecVersion: specVersion, transitioning: "yes",
    upgrade: startUpgrade(current, specVersion, new Date(sim.now).toISOString()) };
  sim.input.snapshot.services = sim.services.map((s) => (s.id === id ? next : s));
}

function settle(sim: Sim, id: string, count: number): void {
  sim.until((s) => s.serving(id).length === count && s.service(id).transitioning === "no");
}

t.test("startFirst, batch 2, scale 6: never fewer than 6 serving, at most 8 running, every instance replaced", async (t) => {
  const sim = new Sim(input({ hosts: hosts3(), services: [service("web", { scale: 6, healthCheck: check, upgradeStrategy: { batchSize: 2, intervalMillis: 1000, startFirst: true } })] }));
  settle(sim, "web", 6);
  const before = new Set(live(sim, "web").map((i) => i.id));
  changeSpec(sim, "web", { image: "x:2" });
  let minServing = Infinity;
  let maxRunning = 0;
  let batches = 0;
  const steps = sim.until((s) => {
    minServing = Math.min(minServing, s.serving("web").length);
    maxRunning = Math.max(maxRunning, s.instances.filter((i) => i.serviceId === "web").length);
    if (s.plans[s.plans.length - 1].batch.put.some((p) => p.kind === "service" && (p.record as ServiceRecord).upgrade?.batch?.instanceIds.length)) batches++;
    return s.service("web").upgrade?.state === "upgraded";
  });
  t.ok(steps > 3, `took ${steps} passes`);
  t.equal(minServing, 6, "6 serving at every pass");
  t.ok(maxRunning <= 8, `at most 8 instances at once (${maxRunning})`);
  t.equal(batches, 3, "three batches of two");
  const after = live(sim, "web");
  t.equal(after.length, 6);
  t.ok(after.every((i) => i.spec.image === "x:2" && i.specVersion === 2 && !before.has(i.id)), "all six are new, on the new spec");
  settle(sim, "web", 6);
});

t.test("stop first, batch 2: at least 4 of 6 serving throughout", async (t) => {
  const sim = new Sim(input({ hosts: hosts3(), services: [service("web", { scale: 6, healthCheck: check, upgradeStrategy: { batchSize: 2, intervalMillis: 0, startFirst: false } })] }));
  settle(sim, "web", 6);
  changeSpec(sim, "web", { image: "x:2" });
  let minServing = Infinity;
  sim.until((s) => { minServing = Math.min(minServing, s.serving("web").length); return s.service("web").upgrade?.state === "upgraded"; });
  t.equal(minServing, 4);
  t.ok(live(sim, "web").every((i) => i.specVersion === 2));
});

t.test("a new spec whose check never passes rolls back by itself, with the reason", async (t) => {
  const sim = new Sim(input({ hosts: hosts3(), services: [service("web", { scale: 4, healthCheck: check, upgradeStrategy: { batchSize: 2, intervalMillis: 0, startFirst: true } })] }), {
    verdict: (i) => (i.spec.image === "broken" ? "failing" : "passing"),
  });
  settle(sim, "web", 4);
  changeSpec(sim, "web", { image: "broken" });
  let minServing = Infinity;
  sim.until((s) => { minServing = Math.min(minServing, s.serving("web").length); return s.service("web").upgrade?.state === "rolled-back"; });
  const svc = sim.service("web");
  t.equal(svc.spec.image, "local/busybox", "the spec is the old one again");
  t.equal(svc.specVersion, 1, "and so is the version");
  t.equal(svc.maxSpecVersion, 2, "the failed version's number is never reused");
  t.match(svc.upgrade?.reason, /upgrade to version 2 failed: instance app-web-\d+ is unhealthy/);
  t.equal(minServing, 4, "startFirst: the old instances served throughout");
  settle(sim, "web", 4);
  t.ok(live(sim, "web").every((i) => i.spec.image === "local/busybox"));
});

t.test("new containers that cannot start fail the batch at once", async (t) => {
  const sim = new Sim(input({ hosts: hosts3(), services: [service("web", { scale: 2 })] }), {
    starts: (i) => i.spec.image !== "missing",
  });
  settle(sim, "web", 2);
  changeSpec(sim, "web", { image: "missing" });
  const steps = sim.until((s) => s.service("web").upgrade?.state === "rolled-back");
  t.ok(steps < 10, `rolled back within a few passes (${steps})`);
  t.match(sim.service("web").upgrade?.reason, /could not start: image not found/);
});

t.test("a new spec no host can take fails at once and nothing running is lost", async (t) => {
  const sim = new Sim(input({ hosts: hosts3(), services: [service("db", { scale: 1 })] }));
  settle(sim, "db", 1);
  const running = live(sim, "db")[0].id;
  changeSpec(sim, "db", { image: "x:2", labels: { "io.rancher.scheduler.affinity:host_label": "zome=a" } });
  const plan = sim.step();
  t.notOk(plan.batch.put.some((p) => p.kind === "instance" && p.record.id === running && (p.record as { stopping?: unknown }).stopping), "the running instance is not stopped");
  t.equal(sim.service("db").upgrade?.state, "rolled-back", "rolled back in the same pass: the old instance never stopped");
  t.match(sim.service("db").upgrade?.reason, /cannot be placed: .*zome=a/);
  t.equal(live(sim, "db")[0].id, running, "the same container still runs");
});

t.test("a new spec during an upgrade supersedes it; rollback would go to the last complete spec", async (t) => {
  const sim = new Sim(input({ hosts: hosts3(), services: [service("web", { scale: 4, upgradeStrategy: { batchSize: 1, intervalMillis: 2000, startFirst: false } })] }));
  settle(sim, "web", 4);
  changeSpec(sim, "web", { image: "x:2" });
  sim.step(); sim.step();
  changeSpec(sim, "web", { image: "x:3" });
  t.equal(sim.service("web").upgrade?.fromVersion, 1, "from the last spec that ran in full");
  sim.until((s) => s.service("web").upgrade?.state === "upgraded");
  t.ok(live(sim, "web").every((i) => i.spec.image === "x:3" && i.specVersion === 3));
});

t.test("batches wait for the interval after the previous one was ready", async (t) => {
  const sim = new Sim(input({ hosts: hosts3(), services: [service("web", { scale: 2, upgradeStrategy: { batchSize: 1, intervalMillis: 10_000, startFirst: false } })] }), { stepMs: 500 });
  settle(sim, "web", 2);
  changeSpec(sim, "web", { image: "x:2" });
  const start = sim.now;
  sim.until((s) => s.service("web").upgrade?.state === "upgraded");
  t.ok(sim.now - start >= 10_000, `took ${sim.now - start} ms: the interval was honoured`);
});

t.test("an upgrade of a service with a published port and startFirst falls back to stop first on a full host", async (t) => {
  const sim = new Sim(input({ hosts: [host("h1")], services: [service("web", { scale: 1, ports: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }], upgradeStrategy: { batchSize: 1, intervalMillis: 0, startFirst: true } })] }));
  settle(sim, "web", 1);
  changeSpec(sim, "web", { image: "x:2" });
  sim.until((s) => s.service("web").upgrade?.state === "upgraded");
  t.ok(live(sim, "web").every((i) => i.specVersion === 2));
  const reasons = sim.plans.flatMap((p) => p.batch.put).filter((p) => p.kind === "service").map((p) => (p.record as ServiceRecord).upgrade?.reason).filter(Boolean);
  t.match(reasons.join(" "), /startFirst: 1 of 1 new instances could not start before the old ones stopped/);
});

t.test("a host label change moves instances whose hard rules no longer hold, only where another host can take them", async (t) => {
  const rule = { "io.rancher.scheduler.affinity:host_label": "zone=a" };
  const sim = new Sim(input({ hosts: [host("h1", { zone: "a" }), host("h2", { zone: "b" }), host("h3", { zone: "b" })], services: [service("db", { scale: 1, labels: rule })] }));
  settle(sim, "db", 1);
  const first = live(sim, "db")[0];
  t.equal(first.hostId, "h1");
  // h1 loses the label and no other host has it: the instance stays, and the service says why.
  sim.input.snapshot.hosts = sim.input.snapshot.hosts.map((h) => (h.id === "h1" ? { ...h, labels: { zone: "b" } } : h));
  for (let k = 0; k < 5; k++) sim.step();
  t.equal(live(sim, "db")[0].id, first.id, "nowhere to go: it stays");
  t.match(sim.service("db").transitioningMessage, /stays on h1 .*host_label zone=a not present.*no other host can take it/);
  // h3 gets the label: the instance moves there.
  sim.input.snapshot.hosts = sim.input.snapshot.hosts.map((h) => (h.id === "h3" ? { ...h, labels: { zone: "a" } } : h));
  settle(sim, "db", 1);
  sim.until((s) => !s.instances.some((i) => i.id === first.id));
  t.equal(live(sim, "db")[0].hostId, "h3", "moved to the host that matches");
});
