import t from "tap";
import type { ContainerInspectInfo } from "dockerode";
import { Coalescer } from "../../agent/coalescer";
import { parseDesired } from "../../agent/desired";
import { mergeHostLabels, parseHostLabels } from "../../agent/host-labels";
import { createLogger } from "../../agent/log";
import { initialCursor } from "../../agent/nudges";
import { buildObserved } from "../../agent/observed";
import { parseResponse } from "../../agent/registration";
import { spec } from "./support/docker-fixture";

t.test("--labels parsing: k=v lists, Rancher's & form, clear errors naming the flag", async (t) => {
  t.same(parseHostLabels("zone=a, ssd=true"), { zone: "a", ssd: "true" });
  t.same(parseHostLabels("a=b&c=d"), { a: "b", c: "d" });
  t.same(parseHostLabels(""), {});
  t.same(parseHostLabels("empty="), { empty: "" });
  t.throws(() => parseHostLabels("zone"), /--labels: "zone" is not key=value/);
  t.throws(() => parseHostLabels("=x"), /--labels/);
  t.throws(() => parseHostLabels("bad key=x"), /--labels: label key "bad key"/);
  t.throws(() => parseHostLabels("a=1,a=2"), /given twice/);
});

t.test("system host labels win over the user's, and the override is reported", async (t) => {
  const merged = mergeHostLabels({ "io.rancher.host.os": "windows", zone: "a" }, { hostname: "n1", dockerVersion: "20.10", kernelVersion: "6.1" });
  t.same(merged.labels, {
    zone: "a",
    "io.rancher.host.os": "linux",
    "io.rancher.host.docker_version": "20.10",
    "io.rancher.host.linux_kernel_version": "6.1",
    "io.drover.host.hostname": "n1",
  });
  t.same(merged.overridden, [{ key: "io.rancher.host.os", userValue: "windows", systemValue: "linux" }]);
});

t.test("logs are JSON lines and never carry a password", async (t) => {
  const lines: string[] = [];
  const log = createLogger((l) => lines.push(l), "info").child({ hostId: "h1" });
  log.info("registered", { password: "s3cret", redisPassword: "s3cret", user: "u" });
  log.debug("hidden");
  t.equal(lines.length, 1);
  const parsed = JSON.parse(lines[0]);
  t.match(parsed, { level: "info", msg: "registered", hostId: "h1", user: "u", password: "***" });
  t.notMatch(lines[0], /s3cret/);
});

t.test("coalescer: never two runs at once, one more run after triggers that arrived meanwhile", async (t) => {
  let running = 0, maxRunning = 0, runs = 0;
  let release!: () => void;
  let gate = new Promise<void>((r) => (release = r));
  const c = new Coalescer(async () => {
    running++; runs++; maxRunning = Math.max(maxRunning, running);
    await gate;
    running--;
  });
  c.trigger("a");
  c.trigger("b");
  c.trigger("c");
  const first = gate;
  gate = Promise.resolve();
  release();
  await first;
  await c.idle();
  t.equal(maxRunning, 1);
  t.equal(runs, 2, "the first run, then exactly one for the triggers that came during it");
});

t.test("desired documents are validated before anything is applied", async (t) => {
  const ok = { hostId: "h1", generation: 3, instances: [{ id: "i1", name: "s-w-1", serviceId: "s", stackId: "k", spec: spec() }] };
  t.equal(parseDesired(JSON.stringify(ok), "h1").generation, 3);
  t.throws(() => parseDesired(JSON.stringify(ok), "h2"), /for host "h1", not h2/);
  t.throws(() => parseDesired(JSON.stringify({ ...ok, instances: undefined }), "h1"), /instances/);
  t.throws(() => parseDesired(JSON.stringify({ ...ok, instances: [{ ...ok.instances[0], name: "bad name" }] }), "h1"), /valid container name/);
  t.throws(() => parseDesired("{", "h1"));
});

t.test("observed: running/exited from inspect, missing, error", async (t) => {
  const desired = { hostId: "h1", generation: 7, instances: ["a", "b", "c", "d"].map((id) => ({ id, name: `n-${id}`, serviceId: "s", stackId: "k", spec: spec() })) };
  const info = (running: boolean, exit = 0) => ({
    Id: `c-${running}`, RestartCount: 2,
    State: { Running: running, ExitCode: exit, StartedAt: "2024-01-01T00:00:00Z" },
  }) as unknown as ContainerInspectInfo;
  const o = buildObserved(desired, new Map([["a", info(true)], ["b", info(false, 3)]]), new Map([["d", "name taken"]]), new Date(0));
  t.equal(o.appliedGeneration, 7);
  t.same(o.instances.a, { state: "running", containerId: "c-true", exitCode: undefined, startedAt: "2024-01-01T00:00:00Z", restartCount: 2 });
  t.match(o.instances.b, { state: "exited", exitCode: 3 });
  t.same(o.instances.c, { state: "missing", restartCount: 0 });
  t.same(o.instances.d, { state: "error", restartCount: 0, error: "name taken" });
});

t.test("registration response is checked; nudge cursor of a fresh identity", async (t) => {
  t.throws(() => parseResponse("{}"), /hostId/);
  t.throws(() => parseResponse("nope"), /not JSON/);
  t.equal(initialCursor("1970-01-01T00:01:00.000Z"), "30000-0", "30 s before registration, for clock skew");
});
