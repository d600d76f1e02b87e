import t from "tap";
import type { HealthCheckSpec, InstanceRecord } from "../../../runtime/protocol/model";
import { backoffMs } from "../../../runtime/reconcile/backoff";
import { host, input, service, T0 } from "./fixtures";
import { Sim } from "./sim";

const check = (extra: Partial<HealthCheckSpec> = {}): HealthCheckSpec => ({
  port: 80, interval: 2000, responseTimeout: 2000, healthyThreshold: 2, unhealthyThreshold: 3,
  initializingTimeout: 60000, reinitializingTimeout: 60000, strategy: "recreate", ...extra,
});

const hosts3 = () => [host("h1"), host("h2"), host("h3")];
const live = (sim: Sim, sid: string) => sim.instances.filter((i) => i.serviceId === sid && !i.stopping);

t.test("instances start initializing, turn healthy on passing verdicts, and DNS follows", async (t) => {
  const sim = new Sim(input({ hosts: hosts3(), services: [service("web", { scale: 3, healthCheck: check() })] }));
  sim.step();
  t.ok(live(sim, "web").every((i) => i.healthState === "initializing"), "new instances are initializing");
  t.equal(sim.serving("web").length, 0, "DNS hands out none of them yet");
  sim.until((s) => live(s, "web").every((i) => i.healthState === "healthy"));
  t.equal(sim.serving("web").length, 3, "all three served once healthy");
  t.equal(sim.service("web").healthState, "healthy");
});

t.test("every instance is checked on its own host and on one other live host", async (t) => {
  const sim = new Sim(input({ hosts: hosts3(), services: [service("web", { scale: 3, healthCheck: check() })] }));
  sim.until((s) => live(s, "web").every((i) => i.status?.state === "running") && Object.values(s.input.desired).some((d) => d?.checks?.length));
  sim.step();
  for (const i of live(sim, "web")) {
    const checkers = Object.values(sim.input.desired).filter((d) => d?.checks?.some((c) => c.instanceId === i.id));
    t.equal(checkers.length, 2, `${i.name} has two checkers`);
    const local = checkers.find((d) => d!.hostId === i.hostId)!.checks!.find((c) => c.instanceId === i.id)!;
    t.ok(local.local, "one is its own host");
    t.equal(local.ip, i.ip, "checked at its overlay address");
  }
});

t.test("sick by both checkers: replaced within the pass, in the same slot, DNS first", async (t) => {
  let sick: string | undefined;
  const sim = new Sim(input({ hosts: hosts3(), services: [service("web", { scale: 3, healthCheck: check() })] }), {
    verdict: (i) => (i.id === sick ? "failing" : "passing"),
  });
  sim.until((s) => live(s, "web").every((i) => i.healthState === "healthy"));
  const victim = live(sim, "web")[1];
  sick = victim.id;
  sim.until((s) => !s.instances.some((i) => i.id === victim.id));
  const replacement = live(sim, "web").find((i) => i.index === victim.index)!;
  t.ok(replacement, "a replacement takes the same index");
  t.equal(replacement.attempt, 1, "first replacement in a row");
  t.notOk(replacement.backoffUntil, "the first one is not held back");
  const removedPass = sim.plans.find((p) => p.batch.remove.some((r) => r.kind === "instance" && r.id === victim.id))!;
  t.ok(removedPass, "it was removed");
  t.ok(removedPass.dns && !removedPass.dns.instances.some((i) => i.id === victim.id), "the DNS directory dropped it in that pass (written before the desired documents)");
  sim.until((s) => s.serving("web").length === 3);
  t.pass("back to three serving");
});

t.test("a partitioned checker is told apart from a sick container", async (t) => {
  // h3's checker sees everything failing (cut off); the containers' own hosts see them fine.
  const sim = new Sim(input({ hosts: hosts3(), services: [service("web", { scale: 3, healthCheck: check() })] }), {
    verdict: (i, checker) => (checker === "h3" && i.hostId !== "h3" ? "failing" : "passing"),
  });
  sim.until((s) => live(s, "web").every((i) => i.healthState === "healthy"));
  const ids = live(sim, "web").map((i) => i.id).sort();
  for (let k = 0; k < 20; k++) sim.step();
  t.same(live(sim, "web").map((i) => i.id).sort(), ids, "no instance recreated");
  t.ok(live(sim, "web").every((i) => i.healthState === "healthy"), "all still healthy");
});

t.test("verdicts of a host whose agent is gone do not count", async (t) => {
  let h1Dead = false;
  const inp = input({ hosts: hosts3(), services: [service("web", { scale: 3, healthCheck: check() })] });
  const sim = new Sim(inp, { verdict: (i, checker) => (checker === "h1" && h1Dead ? "failing" : "passing") });
  sim.until((s) => live(s, "web").every((i) => i.healthState === "healthy"));
  // h1's checker turns failing on everything, then its heartbeat stops: its last report is stale.
  h1Dead = true;
  sim.step();
  inp.heartbeats.h1 = undefined;
  for (let k = 0; k < 5; k++) sim.step();
  t.ok(live(sim, "web").filter((i) => i.hostId !== "h1").every((i) => i.healthState === "healthy"), "instances elsewhere stay healthy");
});

t.test("no check passing within initializingTimeout: unhealthy with the reason, then replaced", async (t) => {
  const sim = new Sim(input({ hosts: hosts3(), services: [service("web", { scale: 1, healthCheck: check({ initializingTimeout: 5000 }) })] }), {
    verdict: () => "pending",
  });
  const first = (sim.step(), live(sim, "web")[0]);
  sim.until((s) => s.instances.find((i) => i.id === first.id)?.healthState === "unhealthy" || !s.instances.some((i) => i.id === first.id));
  const marked = sim.plans.flatMap((p) => p.batch.put).map((p) => p.record as InstanceRecord).find((r) => r.id === first.id && r.healthState === "unhealthy")!;
  t.match(marked.healthReason, /no check passed within 5000 ms/);
  t.ok(Date.parse(marked.healthChangedAt!) - T0 >= 5000, "not before the timeout");
});

t.test("strategy none only reports", async (t) => {
  const sim = new Sim(input({ hosts: hosts3(), services: [service("web", { scale: 2, healthCheck: check({ strategy: "none" }) })] }), {
    verdict: () => "failing",
  });
  sim.until((s) => live(s, "web").every((i) => i.healthState === "unhealthy"));
  const ids = live(sim, "web").map((i) => i.id).sort();
  for (let k = 0; k < 10; k++) sim.step();
  t.same(live(sim, "web").map((i) => i.id).sort(), ids, "nothing recreated");
  t.equal(sim.service("web").healthState, "unhealthy");
  t.match(sim.service("web").transitioningMessage, /strategy none: reported only/);
});

t.test("recreateOnQuorum: 3 of 4 sick with quorum 2 replaces nothing until a second one is healthy", async (t) => {
  const sickIds = new Set<string>();
  const sim = new Sim(input({ hosts: hosts3(), services: [service("web", { scale: 4, healthCheck: check({ strategy: "recreateOnQuorum", quorum: 2 }) })] }), {
    verdict: (i) => (sickIds.has(i.id) ? "failing" : "passing"),
  });
  sim.until((s) => live(s, "web").every((i) => i.healthState === "healthy"));
  const [a, b, c] = live(sim, "web");
  for (const i of [a, b, c]) sickIds.add(i.id);
  sim.until((s) => live(s, "web").filter((i) => i.healthState === "unhealthy").length === 3);
  const before = live(sim, "web").map((i) => i.id).sort();
  for (let k = 0; k < 10; k++) sim.step();
  t.same(live(sim, "web").map((i) => i.id).sort(), before, "below quorum: nothing replaced");
  t.match(sim.service("web").transitioningMessage, /1 healthy, quorum 2/);
  sickIds.delete(a.id); // one recovers: 2 healthy, quorum met
  sim.until((s) => !s.instances.some((i) => i.id === b.id) && !s.instances.some((i) => i.id === c.id));
  t.ok(sim.instances.some((i) => i.id === a.id), "the recovered one stays");
});

t.test("a check that never passes: replacements back off, creates stay bounded", async (t) => {
  const sim = new Sim(input({ hosts: hosts3(), services: [service("web", { scale: 1, healthCheck: check({ initializingTimeout: 3000 }) })] }), {
    verdict: () => "failing", stepMs: 1000,
  });
  const end = T0 + 10 * 60_000;
  while (sim.now < end) sim.step();
  const creates = sim.plans.flatMap((p) => p.batch.put).filter((p) => p.kind === "instance" && (p.record as InstanceRecord).state === "requested");
  const firstMinute = creates.filter((p) => Date.parse((p.record as InstanceRecord).createdAt) < T0 + 60_000);
  t.ok(firstMinute.length <= 6, `creates in the first minute bounded (${firstMinute.length})`);
  t.ok(creates.length <= 12, `creates in ten minutes bounded (${creates.length})`);
  const attempts = creates.map((p) => (p.record as InstanceRecord).attempt ?? 0);
  t.same(attempts.slice(0, 4), [0, 1, 2, 3], "attempts count up");
  t.equal(backoffMs(2), 5000);
  t.equal(backoffMs(3), 10000);
  t.equal(backoffMs(20), 300000, "capped at 5 minutes");
  const held = sim.instances.find((i) => i.backoffUntil);
  if (held) t.notOk(Object.values(sim.input.desired).some((d) => d?.instances.some((x) => x.id === held.id) && Date.parse(held.backoffUntil!) > sim.now), "a held-back replacement is on no agent's list");
});

t.test("no health decision while the instance's host cannot reach its dockerd", async (t) => {
  let failing = false;
  const inp = input({ hosts: hosts3(), services: [service("web", { scale: 3, healthCheck: check() })] });
  const sim = new Sim(inp, { verdict: () => (failing ? "failing" : "passing") });
  sim.until((s) => live(s, "web").every((i) => i.healthState === "healthy"));
  const ids = live(sim, "web").map((i) => i.id).sort();
  failing = true;
  // The agents' next reports say dockerd is down everywhere (a restart of the engine).
  const step = sim.step.bind(sim);
  for (let k = 0; k < 10; k++) {
    step();
    for (const o of Object.values(inp.observed)) if (o) o.docker = { state: "down", since: new Date(sim.now).toISOString() };
  }
  t.same(live(sim, "web").map((i) => i.id).sort(), ids, "nothing replaced");
  t.ok(live(sim, "web").every((i) => i.healthState === "healthy"), "health kept as it was");
});

t.test("a host joining or leaving moves few second checkers, and no instance leaves healthy for it", async (t) => {
  const { remoteChecker } = await import("../../../runtime/reconcile/plan-health");
  const ids = Array.from({ length: 300 }, (_, k) => `i${k}`);
  const four = ["h1", "h2", "h3", "h4"];
  const before = ids.map((id) => remoteChecker({ id, hostId: "h1" } as InstanceRecord, four));
  const after = ids.map((id) => remoteChecker({ id, hostId: "h1" } as InstanceRecord, ["h1", "h2", "h3"]));
  const moved = ids.filter((_, k) => before[k] !== after[k]).length;
  const hadH4 = before.filter((h) => h === "h4").length;
  t.equal(moved, hadH4, `only the ${hadH4} instances h4 checked moved (${moved})`);

  let gone = false;
  const inp = input({ hosts: [host("h1"), host("h2"), host("h3"), host("h4")], services: [service("web", { scale: 8, healthCheck: check() })] });
  // Checkers that start over answer "pending" for a while: no news about the containers.
  const sim = new Sim(inp, { verdict: () => (gone ? "pending" : "passing") });
  sim.until((s) => live(s, "web").every((i) => i.healthState === "healthy"));
  const elsewhere = live(sim, "web").filter((i) => i.hostId !== "h4").map((i) => i.id).sort();
  gone = true;
  inp.snapshot.hosts = inp.snapshot.hosts.map((h) => (h.id === "h4" ? { ...h, deactivated: true } : h));
  for (let k = 0; k < 6; k++) {
    sim.step();
    const served = new Set(sim.serving("web").map((i) => i.id));
    t.ok(elsewhere.every((id) => served.has(id)), `pass ${k}: every instance that was healthy elsewhere is still served`);
  }
});

t.test("a slow starter failing its first checks stays initializing until its timeout, as in Rancher", async (t) => {
  let ready = false;
  const sim = new Sim(input({ hosts: hosts3(), services: [service("web", { scale: 1, healthCheck: check({ initializingTimeout: 20000 }) })] }), {
    verdict: () => (ready ? "passing" : "failing"),
  });
  sim.step();
  const first = live(sim, "web")[0];
  for (let k = 0; k < 20; k++) sim.step(); // ~10 s of failing checks, within the 20 s
  const now = sim.instances.find((i) => i.id === first.id)!;
  t.equal(now.healthState, "initializing", "not unhealthy: it has its whole initializingTimeout");
  ready = true;
  sim.until((s) => s.instances.find((i) => i.id === first.id)?.healthState === "healthy");
  t.pass("and healthy once it passes, the same instance");
});
