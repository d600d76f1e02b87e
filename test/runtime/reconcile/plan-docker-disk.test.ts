/** The pass hands the planner each host's Docker disk figure: full hosts take nothing new, keep what they run. */
import t from "tap";
import type { InstanceRecord, ServiceRecord } from "../../../runtime/protocol/model";
import { newInstanceHosts, planWithDockerDisk } from "../../../runtime/reconcile/disk-aware-plan";
import { planEnvironment } from "../../../runtime/reconcile/plan";
import { startUpgrade } from "../../../runtime/reconcile/plan-upgrade";
import { quietStateOf, stillQuiet } from "../../../runtime/reconcile/quiet";
import { host, input, instance, service } from "./fixtures";
import { Sim } from "./sim";

const GiB = 1024 ** 3;
const full = { freeBytes: 0, totalBytes: 20 * GiB };
const roomy = { freeBytes: 15 * GiB, totalBytes: 20 * GiB };
const created = (plan: ReturnType<typeof planEnvironment>) =>
  plan.batch.put.filter((p) => p.kind === "instance" && (p.record as InstanceRecord).state === "requested").map((p) => p.record as InstanceRecord);

t.test("a scale-up goes to hosts with room; the full host keeps its running instance", async (t) => {
  const instances = [instance("i1", "web", "h1", 1, { status: { state: "running", restartCount: 0 } })];
  const inp = input({ hosts: [host("h1"), host("h2"), host("h3")], services: [service("web", { scale: 4 })], instances });
  inp.dockerDisk = { h1: full, h2: roomy };
  const plan = planEnvironment(inp);
  const hosts = created(plan).map((i) => i.hostId);
  t.equal(hosts.length, 3, "three new instances");
  t.notOk(hosts.includes("h1"), "nothing new on the full h1");
  t.ok(hosts.includes("h3"), "h3 has no figure yet and counts as ok");
  t.same(plan.batch.remove, [], "the instance on the full host is not moved");
  t.notOk(plan.batch.put.some((p) => p.kind === "instance" && (p.record as InstanceRecord).id === "i1" && (p.record as InstanceRecord).stopping), "nor drained");
});

t.test("with every host full the service says why, per host, and once freed it is placed", async (t) => {
  const inp = input({ hosts: [host("h1"), host("h2")], services: [service("web", { scale: 1 })] });
  inp.dockerDisk = { h1: full, h2: full };
  const plan = planEnvironment(inp);
  t.equal(created(plan).length, 0);
  const rec = plan.batch.put.find((p) => p.kind === "service")!.record as ServiceRecord;
  t.equal(rec.transitioning, "error");
  t.match(rec.transitioningMessage, /h1: docker data root nearly full: 0 B free of 20\.0 GiB, keeps 1\.0 GiB free; h2: docker data root nearly full/);
  inp.dockerDisk = { h1: full, h2: roomy };
  t.same(created(planEnvironment(inp)).map((i) => i.hostId), ["h2"]);
});

t.test("a quiet environment wakes when a host short of disk has room again", async (t) => {
  const snap = input({ hosts: [host("h1"), host("h2")] }).snapshot;
  const beats = { h1: 3000, h2: 3000 };
  const roomyQuiet = quietStateOf(snap, beats, { h1: roomy })!;
  t.equal(roomyQuiet.diskShort, undefined, "room everywhere: no host to watch");
  t.ok(stillQuiet(roomyQuiet, snap.rev, beats, { h1: full }), "a disk filling does not end the quiet (nothing to do until a pass anyway)");
  const quiet = quietStateOf(snap, beats, { h1: full, h2: roomy })!;
  t.same(Object.keys(quiet.diskShort ?? {}), ["h1"], "the full host is watched");
  t.ok(stillQuiet(quiet, snap.rev, beats, { h1: full }), "still full: the timer's pass may be skipped");
  t.notOk(stillQuiet(quiet, snap.rev, beats, { h1: roomy }), "room again: a pass runs (instances may be waiting for it)");
  t.notOk(stillQuiet(quiet, snap.rev, beats, {}), "no figure any more counts as room");
  const reserved = quietStateOf({ ...snap, hosts: [host("h1", { "io.drover.scheduler.docker_disk_reserve": "100MiB" }), host("h2")] }, beats, { h1: { freeBytes: 50 * 1024 ** 2, totalBytes: 20 * GiB } })!;
  t.notOk(stillQuiet(reserved, snap.rev, beats, { h1: { freeBytes: 200 * 1024 ** 2, totalBytes: 20 * GiB } }), "judged with the host's own reserve");
});

t.test("a rolling upgrade while every host is full rolls back at once: nothing running is stopped", async (t) => {
  const sim = new Sim(input({ hosts: [host("h1"), host("h2")], services: [service("db", { scale: 1 })] }));
  sim.until((s) => s.instances.some((i) => i.serviceId === "db" && i.status?.state === "running") && s.service("db").transitioning === "no");
  const running = sim.instances.find((i) => i.serviceId === "db")!.id;
  sim.input.dockerDisk = { h1: full, h2: full };
  const current = sim.service("db");
  const next: ServiceRecord = { ...current, spec: { ...current.spec, image: "x:2" }, specVersion: 2, maxSpecVersion: 2, transitioning: "yes",
    upgrade: startUpgrade(current, 2, new Date(sim.now).toISOString()) };
  sim.input.snapshot.services = [next];
  const plan = sim.step();
  t.notOk(plan.batch.put.some((p) => p.kind === "instance" && p.record.id === running && (p.record as InstanceRecord).stopping), "the running instance is not stopped");
  t.equal(sim.service("db").upgrade?.state, "rolled-back");
  t.match(sim.service("db").upgrade?.reason, /docker data root nearly full/);
  t.ok(sim.instances.some((i) => i.id === running), "the same container still runs");
});

t.test("passes read the disk figures only when they place something, and plan again only for a full host", async (t) => {
  const reads: string[][] = [];
  const figures = (d: Record<string, { freeBytes: number; totalBytes: number }>) => async (ids: string[]) => {
    reads.push(ids);
    return Object.fromEntries(ids.map((id) => [id, d[id]]));
  };
  const idle = input({ hosts: [host("h1"), host("h2")], services: [service("web", { scale: 0 })] });
  await planWithDockerDisk(idle, figures({ h1: full }));
  t.same(reads, [], "nothing to place: no read");
  const scaleUp = input({ hosts: [host("h1"), host("h2")], services: [service("web", { scale: 2 })] });
  const roomyPass = await planWithDockerDisk(scaleUp, figures({ h1: roomy, h2: roomy }));
  t.same(reads, [["h1", "h2"]], "a placing pass reads the figures of the hosts it placed on, once");
  t.same([...newInstanceHosts(roomyPass.plan, scaleUp)].sort(), ["h1", "h2"]);
  const fullPass = await planWithDockerDisk(scaleUp, figures({ h1: full }));
  t.same([...newInstanceHosts(fullPass.plan, scaleUp)], ["h2"], "planned again: nothing on the full host");
  t.same(fullPass.dockerDisk, { h1: full, h2: undefined }, "the figures go on to the quiet state");
  reads.length = 0;
  const one = input({ hosts: [host("h1"), host("h2"), host("h3")], services: [service("web", { scale: 1 })] });
  const onePass = await planWithDockerDisk(one, figures({}));
  t.same(reads, [[...newInstanceHosts(onePass.plan, one)]], "one new instance: one host's figure read");
  const placed = [...newInstanceHosts(onePass.plan, one)][0];
  reads.length = 0;
  const moved = await planWithDockerDisk(one, figures({ [placed]: full }));
  t.equal(reads.length, 2, "its host is full: the other hosts' figures are read too");
  t.same(reads[1].sort(), ["h1", "h2", "h3"].filter((h) => h !== placed));
  t.notOk(newInstanceHosts(moved.plan, one).has(placed), "and the instance goes elsewhere");
});

t.test("through the pass: an upgrade started while every host is full never stops the running instance", async (t) => {
  const sim = new Sim(input({ hosts: [host("h1"), host("h2")], services: [service("db", { scale: 1 })] }));
  sim.until((s) => s.instances.some((i) => i.serviceId === "db" && i.status?.state === "running") && s.service("db").transitioning === "no");
  const running = sim.instances.find((i) => i.serviceId === "db")!.id;
  const current = sim.service("db");
  sim.input.snapshot.services = [{ ...current, spec: { ...current.spec, image: "x:2" }, specVersion: 2, maxSpecVersion: 2, transitioning: "yes",
    upgrade: startUpgrade(current, 2, new Date(sim.now).toISOString()) }];
  const { plan } = await planWithDockerDisk(sim.input, async () => ({ h1: full, h2: full }));
  t.notOk(plan.batch.put.some((p) => p.kind === "instance" && p.record.id === running && (p.record as InstanceRecord).stopping), "the running instance is not stopped");
  t.notOk(plan.batch.remove.some((r) => r.id === running), "nor removed");
  const svc = plan.batch.put.find((p) => p.kind === "service")?.record as ServiceRecord | undefined;
  t.equal(svc?.upgrade?.state, "rolled-back", "the upgrade rolls back at once");
});
