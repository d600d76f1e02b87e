import t from "tap";
import type { HostObservedState, InstanceRecord, InstanceStatus } from "../../../runtime/protocol/model";
import { planEnvironment } from "../../../runtime/reconcile/plan";
import { planReportDelta, type ReportDeltaInput } from "../../../runtime/reconcile/report-delta";
import { env, host, instance, service, stack, T0 } from "./fixtures";

// The incremental reconcile's decision (pure): what a changed agent report updates on its own,
// and which reports need a full pass. What it updates must be what the full planner would write.
const running = (over: Partial<InstanceStatus> = {}): InstanceStatus => ({ state: "running", containerId: "c1", startedAt: "2026-01-01T00:00:00.000Z", restartCount: 0, ...over });
const web = service("web", { scale: 2 });
const i1 = instance("i1", "web", "h1", 1, { ip: "10.42.1.2", status: running() });
const i2 = instance("i2", "web", "h1", 2, { ip: "10.42.1.3", status: running({ containerId: "c2" }) });
const doc = (instances: Record<string, InstanceStatus>, over: Partial<HostObservedState> = {}): HostObservedState =>
  ({ hostId: "h1", appliedGeneration: 1, reportedAt: "x", instances, ...over });
const input = (observed: HostObservedState, over: Partial<ReportDeltaInput> = {}): ReportDeltaInput => ({
  hostId: "h1", host: host("h1"), observed, restUnchanged: true, instances: [i1, i2], services: new Map([["web", web]]), ...over,
});
const restarted = doc({ i1: running({ containerId: "c1b", startedAt: "2026-01-02T00:00:00.000Z", restartCount: 1 }), i2: i2.status! });

t.test("a running container restarted by its engine: its record updated, no pass", async (t) => {
  const delta = planReportDelta(input(restarted));
  t.ok("updates" in delta, "settled without a pass");
  if (!("updates" in delta)) return;
  t.same(delta.updates.map((u) => [u.id, u.status?.containerId, u.status?.restartCount, u.state]), [["i1", "c1b", 1, "active"]]);
  t.equal(delta.updates[0].rev, i1.rev, "carries the revision it was read at (the store checks it)");
});

t.test("the same update as the full planner, which then has nothing else to do", async (t) => {
  const delta = planReportDelta(input(restarted));
  const plan = planEnvironment({
    snapshot: { env: env(), rev: 1, hosts: [host("h1")], stacks: [stack()], services: [web], instances: [i1, i2] },
    heartbeats: { h1: 10_000 }, observed: { h1: restarted }, desired: {}, teardownDone: { h1: false },
    now: T0, seed: 1, graceMs: 30_000, newId: () => "new",
  });
  const planned = plan.batch.put.filter((p) => p.kind === "instance").map((p) => p.record as InstanceRecord);
  t.same("updates" in delta ? delta.updates : undefined, planned, "the planner puts the very same records");
  t.same(plan.batch.remove, [], "and removes nothing");
});

t.test("reports only a full pass settles", async (t) => {
  const cases: Array<[string, ReportDeltaInput]> = [
    ["a container exited", input(doc({ i1: { state: "exited", exitCode: 1, restartCount: 0 }, i2: i2.status! }))],
    ["a container not reported any more", input(doc({ i2: i2.status! }))],
    ["a container starts running", input(doc({ i1: running(), i2: i2.status! }), { instances: [{ ...i1, status: { state: "creating", restartCount: 0 } }, i2] })],
    ["the host is reconnecting", input(restarted, { host: host("h1", {}, { state: "reconnecting" }) })],
    ["the host is unknown", input(restarted, { host: undefined })],
    ["the health or load balancer part changed", input(restarted, { restUnchanged: false })],
    ["docker is down", input({ ...restarted, docker: { state: "down", since: "x" } })],
    ["the service is transitioning", input(restarted, { services: new Map([["web", { ...web, transitioning: "yes" as const }]]) })],
    ["the service is health-checked", input(restarted, { services: new Map([["web", service("web", { healthCheck: { port: 80, interval: 2000, responseTimeout: 2000, unhealthyThreshold: 3, healthyThreshold: 2, initializingTimeout: 60000, strategy: "recreate" } as never })]]) })],
    ["the instance is draining", input(restarted, { instances: [{ ...i1, stopping: { reason: "scale", stopAt: "x" } }, i2] })],
    ["no document", input(undefined as unknown as HostObservedState)],
  ];
  for (const [what, c] of cases) {
    const delta = planReportDelta(c);
    t.ok("pass" in delta, `${what}: a pass${"pass" in delta ? ` (${delta.pass})` : ""}`);
  }
});

t.test("instances of other hosts or gone records are left alone", async (t) => {
  const elsewhere = instance("i9", "web", "h2", 9, { status: running() });
  const delta = planReportDelta(input(doc({ ...restarted.instances, i9: running({ containerId: "zz" }), gone: running() }), { instances: [i1, i2, elsewhere, undefined] }));
  t.same("updates" in delta ? delta.updates.map((u) => u.id) : delta, ["i1"]);
});
