import t from "tap";
import { CRASH_LOOP_RESTARTS, instancesOutput, judgeService, placementByHost, serviceStateOf } from "../../provider/service-status";

// The pure judgment of a Service from its API records: when create/update may return, when
// they must fail at once (and with which words), and the `state` and `instances` outputs.
const spec = { image: "x", scale: 2, global: false, restartPolicy: { name: "always" } };
const check = { port: 80, strategy: "recreate" };
const svc = (over: any = {}) => ({ id: "svc1", name: "web", state: "active", transitioning: "no", specVersion: 2, spec, ...over });
let n = 0;
const inst = (over: any = {}) => ({
  id: `i${++n}`, name: `app-web-${n}`, hostId: "h1", ip: `10.42.1.${n}`, specVersion: 2, state: "active",
  status: { state: "running", restartCount: 0 }, ...over,
});

t.test("converged: current version running, as many as asked, server settled, no rollout", async (t) => {
  t.same(judgeService(svc(), [inst(), inst()]), { done: true, pending: "" });
  const one = judgeService(svc(), [inst()]);
  t.notOk(one.done, "one of two");
  t.match(one.pending, /service web: 1 of 2 instances running on version 2/);
  t.notOk(judgeService(svc({ transitioning: "yes" }), [inst(), inst()]).done, "the server still converging");
  t.notOk(judgeService(svc(), [inst(), inst({ status: { state: "creating", restartCount: 0 } })]).done, "a container not running yet");
  const older = judgeService(svc(), [inst(), inst(), inst({ specVersion: 1 })]);
  t.notOk(older.done, "an old-version instance still live");
  t.match(older.pending, /1 of older versions still running/);
  t.ok(judgeService(svc(), [inst(), inst(), inst({ specVersion: 1, stopping: { reason: "upgrade", stopAt: "x" } })]).done, "a draining one does not count");
  t.ok(judgeService(svc(), [inst(), inst(), inst({ state: "removed" }), inst({ kind: "lb" })]).done, "removed and load balancer instances do not count");
  t.ok(judgeService(svc({ spec: { ...spec, global: true } }), [inst()]).done, "global: every live instance current");
  t.ok(judgeService(svc({ spec: { ...spec, scale: 0 } }), []).done, "scale 0");
});

t.test("health: healthy where there is a check", async (t) => {
  const checked = svc({ spec: { ...spec, healthCheck: check } });
  t.notOk(judgeService(checked, [inst({ healthState: "healthy" }), inst({ healthState: "initializing" })]).done);
  t.match(judgeService(checked, [inst({ healthState: "healthy" }), inst({ name: "w2", healthState: "unhealthy", healthReason: "HTTP 503" })]).pending,
    /1 of 2 instances running and healthy.*w2 is unhealthy \(HTTP 503\)/);
  t.ok(judgeService(checked, [inst({ healthState: "healthy" }), inst({ healthState: "healthy" })]).done);
  const none = svc({ spec: { ...spec, healthCheck: { ...check, strategy: "none" } } });
  t.match(judgeService(none, [inst({ healthState: "healthy" }), inst({ name: "w3", healthState: "unhealthy", healthReason: "connection refused" })]).failure,
    /instance w3 is unhealthy \(connection refused\) and the health check's strategy "none" does not replace it/, "strategy none: nothing will change it");
});

t.test("fails at once when waiting cannot help", async (t) => {
  t.match(judgeService(svc({ transitioning: "error", transitioningMessage: "1 of 2 instances could not be placed: h1: host_label zome=a not present" }), []).failure,
    /service web is stuck: 1 of 2 instances could not be placed: h1: host_label zome=a not present/);
  const waiting = judgeService(svc({ transitioning: "error", transitioningMessage: "there are no hosts" }), [], {}, false);
  t.same([waiting.done, waiting.failure], [false, undefined], "no active host at all: hosts may be registering, keep waiting");
  t.match(waiting.pending, /waits for an active host/);
  t.match(judgeService(svc({ state: "removing" }), []).failure, /service web is removing/);
  t.match(judgeService(svc(), [inst({ name: "w9", status: { state: "error", error: "no such image", restartCount: 0 } }), inst()]).failure,
    /instance w9 could not start: no such image/);
  const loop = inst({ name: "w8", status: { state: "running", restartCount: CRASH_LOOP_RESTARTS, exitCode: 127 } });
  t.match(judgeService(svc(), [loop, inst()], { newContainers: true }).failure, /instance w8 is crash-looping: restarted 3 times, last exit code 127/);
  t.ok(judgeService(svc(), [loop, inst()], { newContainers: false }).done, "restarts of containers this change did not make are old news");
  t.match(judgeService(svc(), [inst({ status: { state: "running", restartCount: 1 } }), inst()], { newContainers: true }).pending, /restarted 1 time/, "one restart: not yet a loop, not ready either");
  t.match(judgeService(svc({ spec: { ...spec, restartPolicy: { name: "no" } } }), [inst({ name: "w7", status: { state: "exited", exitCode: 1, restartCount: 0 } }), inst()], { newContainers: true }).failure,
    /w7 exited with code 1 and its restart policy is "no"/);
});

t.test("rolling upgrades: wait for them; a rollback of this update fails it with the reason, once the old version runs", async (t) => {
  const upgrading = svc({ specVersion: 3, transitioning: "yes", upgrade: { state: "upgrading", fromVersion: 2, toVersion: 3, instancesByVersion: { 2: 1, 3: 1 } } });
  const mid = judgeService(upgrading, [inst({ specVersion: 3 }), inst({ specVersion: 2 })], { specVersion: 3, newContainers: true });
  t.notOk(mid.done || mid.failure);
  t.match(mid.pending, /upgrading to version 3 \(instances per version: v2: 1, v3: 1\)/);
  const crash = inst({ specVersion: 3, status: { state: "running", restartCount: 5 } });
  t.notOk(judgeService(upgrading, [crash, inst({ specVersion: 2 })], { specVersion: 3, newContainers: true }).failure, "during a rollout the server judges failing instances (it rolls back)");

  const reason = "upgrade to version 3 failed: instance app-web-3 is unhealthy: HTTP 500";
  const rolling = svc({ specVersion: 2, transitioning: "yes", upgrade: { state: "rolling-back", fromVersion: 2, toVersion: 2, reason } });
  const back = judgeService(rolling, [inst()], { specVersion: 3, newContainers: true });
  t.same([back.done, back.failure], [false, undefined], "rolling back: wait until the old version runs again");
  t.match(back.pending, /rolling back to version 2: upgrade to version 3 failed/);
  const rolledBack = svc({ specVersion: 2, upgrade: { state: "rolled-back", fromVersion: 2, toVersion: 2, reason } });
  t.equal(judgeService(rolledBack, [inst(), inst()], { specVersion: 3, newContainers: true }).failure,
    `service web: the upgrade to version 3 was rolled back: ${reason}; the service runs version 2 again`);
  t.ok(judgeService(rolledBack, [inst(), inst()], { specVersion: 2 }).done, "an earlier rolled-back upgrade is settled history for a later update");
  t.match(judgeService(svc({ specVersion: 2, transitioning: "error", transitioningMessage: "rollback to version 2 failed: x", upgrade: { state: "rolling-back", toVersion: 2, reason } }), [], { specVersion: 3 }).failure,
    /the upgrade to version 3 failed \(upgrade to version 3 failed: .*\), and so did the rollback: rollback to version 2 failed: x/);
  t.match(judgeService(svc({ specVersion: 4 }), [], { specVersion: 3 }).failure, /moved to version 4 while version 3 was rolling out/);
});

t.test("the state output", async (t) => {
  t.equal(serviceStateOf(svc(), [inst(), inst()]), "active");
  t.equal(serviceStateOf(svc(), [inst(), inst({ status: { state: "exited", restartCount: 4 } })]), "degraded");
  t.equal(serviceStateOf(svc({ spec: { ...spec, healthCheck: check } }), [inst({ healthState: "healthy" }), inst({ healthState: "unhealthy" })]), "degraded");
  t.equal(serviceStateOf(svc({ transitioning: "error", transitioningMessage: "no host" }), []), "error: no host");
  t.equal(serviceStateOf(svc({ state: "inactive" }), []), "inactive");
  t.equal(serviceStateOf(svc({ upgrade: { state: "upgrading", toVersion: 2 } }), []), "upgrading");
  t.equal(serviceStateOf(svc({ upgrade: { state: "upgraded", toVersion: 2 } }), [inst(), inst()]), "active");
});

t.test("the instances and placement outputs", async (t) => {
  const list = [
    inst({ name: "app-web-10", hostId: "h2", ip: "10.42.2.5", healthState: "healthy" }),
    inst({ name: "app-web-2", hostId: "h1", ip: "10.42.1.3", status: { state: "exited", restartCount: 0 } }),
    inst({ name: "app-web-3", hostId: "gone", ip: undefined, status: undefined, state: "requested" }),
    inst({ name: "app-web-4", state: "removed" }),
  ];
  const out = instancesOutput(list, { h1: "node1", h2: "node2" });
  t.same(out, [
    { name: "app-web-2", host: "node1", ip: "10.42.1.3", state: "exited" },
    { name: "app-web-3", host: "gone", state: "requested" },
    { name: "app-web-10", host: "node2", ip: "10.42.2.5", state: "running", health: "healthy" },
  ], "live instances in name order, host names, container state, health when checked");
  t.same(placementByHost(out.map((i) => i.host)), { gone: 1, node1: 1, node2: 1 });
  t.same(Object.keys(placementByHost(["b", "a", "b"])), ["a", "b"], "hosts in name order (stable for the engine's diff)");
});
