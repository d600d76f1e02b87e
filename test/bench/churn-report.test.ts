import t from "tap";
import { membershipDiff } from "../../bench/support/backend-watch";
import { countFailures, failureBursts, failureRatio, killExposure, phaseAt, sharedWithBaseline, slowIn, unplannedLeaves, type Phase } from "../../bench/support/churn-report";
import { journalEntry } from "../../bench/support/event-journal";
import type { LoadRecord } from "../../bench/support/load-client";

// The lb-churn benchmark's bookkeeping: which action a failed request belongs to, and how
// membership changes are read off HAProxy's serving sets.

const phase = (kind: Phase["kind"], start: number, end: number, extra: Partial<Phase> = {}): Phase => ({ kind, label: `${kind}@${start}`, start, end, changes: 0, ...extra });
const ok = (t: number): LoadRecord => ({ target: "web", t, ms: 2, ok: true, status: 200, body: "web v1 a" });
const fail = (t: number, status = 0, error?: string): LoadRecord => ({ target: "web", t, ms: 5, ok: false, status, ...(error ? { error } : {}) });

t.test("a failed request is put down to the action under way when it was sent", async (t) => {
  const phases = [phase("scale-up", 100, 200), phase("kill", 300, 400), phase("upgrade", 400, 500)];
  t.equal(phaseAt(phases, 100)?.kind, "scale-up", "the start is inside");
  t.equal(phaseAt(phases, 200)?.kind, "scale-up", "so is the end");
  t.equal(phaseAt(phases, 250), undefined, "between two actions: none");
  t.equal(phaseAt(phases, 450)?.kind, "upgrade");
  const counts = countFailures([ok(150), fail(150, 503), fail(350, 0, "ECONNRESET"), fail(360, 0, "ECONNRESET"), fail(250, 0, "timeout"), fail(999, 200)], phases);
  t.equal(counts.total, 5, "successes are not counted");
  t.same(counts.byPhase, { "scale-up": 1, "scale-down": 0, kill: 2, move: 0, upgrade: 0, none: 2 });
  t.same(counts.bySignature, { "HTTP 503": 1, ECONNRESET: 2, timeout: 1, "unexpected body": 1 });
});

t.test("a request cut short belongs to the action that began while it was in flight; a timeout to the one it was sent in", async (t) => {
  const phases = [phase("move", 100, 200), phase("kill", 205, 400), phase("scale-down", 500, 600)];
  const cut: LoadRecord = { ...fail(190, 502), ms: 60 };
  const timedOut: LoadRecord = { ...fail(190, 0, "timeout"), ms: 1000 };
  const late: LoadRecord = { ...fail(450, 0, "ECONNRESET"), ms: 20 };
  t.same(countFailures([cut, timedOut, late], phases).byPhase, { "scale-up": 0, "scale-down": 0, kill: 1, move: 1, upgrade: 0, none: 1 });
});

t.test("phases given out of order are still found", async (t) => {
  const counts = countFailures([fail(150)], [phase("move", 300, 400), phase("scale-down", 100, 200)]);
  t.equal(counts.byPhase["scale-down"], 1);
});

t.test("the ratio stays defined when the baseline failed nothing", async (t) => {
  t.equal(failureRatio(0, 0), 0, "0 and 0: 0");
  t.equal(failureRatio(3, 0), 3, "a baseline of 0 counts as 1");
  t.equal(failureRatio(6, 3), 2, "otherwise value / baseline");
});

t.test("failures close together form one burst, with the action they fell in", async (t) => {
  const bursts = failureBursts([fail(1000, 503), fail(1500, 503), fail(1600, 0, "ECONNREFUSED"), fail(9000, 502)], [phase("kill", 900, 2000)], 2000);
  t.equal(bursts.length, 2);
  t.same(bursts[0], { from: 1000, to: 1600, count: 3, phase: "kill@900 (+100 ms)", signatures: "HTTP 503×2, ECONNREFUSED×1" });
  t.equal(bursts[1].phase, undefined, "outside every action");
});

t.test("a killed server's time in rotation is the time to its first leave after the kill", async (t) => {
  const phases = [phase("kill", 1000, 5000, { victim: "10.42.1.5:80" }), phase("kill", 6000, 9000, { victim: "10.42.1.6:80" })];
  const events = [
    { t: 500, server: "10.42.1.5:80", kind: "leave" as const },
    { t: 1800, server: "10.42.1.5:80", kind: "leave" as const },
    { t: 2500, server: "10.42.1.5:80", kind: "enter" as const },
  ];
  t.same(killExposure(phases, events), [800, undefined], "the second never left the serving set");
});

t.test("membership changes between two reads of a backend", async (t) => {
  const events = membershipDiff("be", new Set(["a:80", "b:80"]), new Set(["b:80", "c:80", "d:80"]), 7);
  t.same(events, [
    { t: 7, backend: "be", server: "a:80", kind: "leave" },
    { t: 7, backend: "be", server: "c:80", kind: "enter" },
    { t: 7, backend: "be", server: "d:80", kind: "enter" },
  ]);
  t.same(membershipDiff("be", new Set(["a:80"]), new Set(["a:80"]), 1), [], "no change, no event");
});

t.test("a leave no action meant is unplanned, with how long the server stayed out", async (t) => {
  const phases = [
    phase("scale-up", 0, 100, { mayLeave: [] }),
    phase("scale-down", 100, 200),
    phase("kill", 200, 300, { mayLeave: ["v:80"] }),
  ];
  const events = [
    { t: 50, server: "a:80", kind: "leave" as const },
    { t: 80, server: "a:80", kind: "enter" as const },
    { t: 150, server: "b:80", kind: "leave" as const },
    { t: 210, server: "v:80", kind: "leave" as const },
    { t: 220, server: "c:80", kind: "leave" as const },
    { t: 400, server: "d:80", kind: "leave" as const },
  ];
  t.same(unplannedLeaves(phases, events), [
    { server: "a:80", t: 50, during: "scale-up@0 (+50 ms)", outMs: 30 },
    { server: "c:80", t: 220, during: "kill@200 (+20 ms)" },
    { server: "d:80", t: 400, during: "between actions" },
  ], "scale-down may take anyone out, a kill only its victim");
});

t.test("failures the static side shared within the window", async (t) => {
  const base = [fail(1000), ok(5000), fail(9000)];
  t.equal(sharedWithBaseline([fail(2500), fail(5000), ok(1000), fail(7001)], base, 2000), 2, "2500 near 1000, 7001 near 9000; 5000 near nothing failed");
});

t.test("drover's events become compact journal entries", async (t) => {
  const e = journalEntry(5, "instance.updated", { id: "i1", resource: { ip: "10.42.1.2", hostId: "h2", state: "active", status: { state: "running" }, healthState: "healthy", healthCheckers: { h2: { state: "passing" }, h3: { state: "pending" } }, stopping: { reason: "x" } } });
  t.same(e, { t: 5, event: "instance.updated", id: "i1", ip: "10.42.1.2", hostId: "h2", state: "active", container: "running", health: "healthy", checkers: "h2:passing h3:pending", stopping: true });
  t.equal(journalEntry(5, "instance.updated", { id: "l1", resource: { kind: "lb" } }), undefined, "load balancer instances are left out");
  t.same(journalEntry(6, "instance.removed", { id: "i2" }), { t: 6, event: "instance.removed", id: "i2" });
  t.same(journalEntry(7, "host.updated", { id: "h3", resource: { state: "active", deactivated: true } }), { t: 7, event: "host.updated", id: "h3", state: "active", deactivated: true });
  t.equal(journalEntry(8, "service.updated", { id: "s" }), undefined);
});

t.test("slow or failed requests sent inside given windows", async (t) => {
  const slow = (t: number): LoadRecord => ({ ...ok(t), ms: 1500 });
  t.same(slowIn([ok(10), slow(20), fail(30), slow(200), ok(500)], [[0, 100], [450, 550]], 1000), { sent: 4, slow: 2 });
});
