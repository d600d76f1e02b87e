/**
 * What the dry-run placement adds to a preview: `pulumi preview` of a 100-resource program
 * (1 Environment, 1 Stack, 98 Services of scale 1 placed on 3 simulated hosts, so the dry run
 * schedules against real instance records) with one Service changed (a new env value: its
 * check() asks the server where its instances would go), against a no-op preview of the same
 * program (no call at all).
 *
 * Hosts: simulated agents (bench/support/sim-agent.ts) speaking the real agent protocol over
 * Redis, reporting every desired container running, so the program's `up` converges.
 *
 * A whole preview's wall time swings by a second between runs on a shared machine, twenty
 * times what is measured here, so the figure comes from the engine itself: run with `-v=7
 * --logtostderr`, it logs when each provider Check call starts and ends (JSON lines, ns).
 * ROUNDS rounds of the two previews back to back, the order alternating; per round
 * added = the changed Service's Check in the changed preview − the same Check in the no-op
 * one, value = the median. The checks run one after another (no PULUMI_PARALLEL_DIFF), so
 * this is what the preview waits longer. baseline = the no-op preview's wall ms per
 * resource (its median / 100): ratio = value / baseline says how many unchanged resources
 * the one dry run costs as much as. The goal is on the value: at most 50 ms. `extra` has the
 * whole previews' wall times, and the dry run measured in process (check() 20 times).
 */
import * as fs from "fs";
import { performance } from "perf_hooks";
import { serviceProvider } from "../provider";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { median } from "./support/procs";
import { benchServer, benchStack, Cleanup, measured, timed, writeProgram } from "./support/pulumi-bench";
import { newSimStats, registerSimHost, SimHost, simRegisterRequest } from "./support/sim-agent";

const RESOURCES = 100;
const HOSTS = 3;
const ROUNDS = 9;
const GOAL_MS = 50;

const PROGRAM = `
const env = new drover.Environment("env", { name: cfg.require("envName") });
const stack = new drover.Stack("bench", { environment: env, name: "bench" });
const n = cfg.getNumber("services") || 0;
const changed = cfg.get("changed");
for (let i = 0; i < n; i++) {
  new drover.Service("svc" + i, {
    stack, name: "svc" + i, image: "local/busybox", command: ["sleep", "3600"], scale: 1,
    env: i === 0 && changed ? { VERSION: changed } : {},
  });
}
exports.envId = env.envId;
exports.apiKey = env.apiKey;
exports.registrationToken = env.registrationToken;
exports.stackId = stack.stackId;
`;

/** The time of one engine log line (`{"time":"2026-12-02T20:11:33.386908816Z",...}`) in ms, to the microsecond. */
function logLineMs(line: string): number | undefined {
  const m = /"time":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z"/.exec(line);
  if (!m) return undefined;
  const fraction = (m[2] ?? "").padEnd(9, "0");
  return Date.parse(`${m[1]}Z`) + Number(fraction.slice(0, 6)) / 1000;
}

/** How long the engine's Check call for the resource named `name` took, from its verbose log. */
export function checkMs(log: string, name: string): number {
  let start: number | undefined;
  let end: number | undefined;
  for (const line of log.split("\n")) {
    if (!line.includes(".Check(urn:") || !line.includes(`::${name})`)) continue;
    if (line.includes(`::${name}) executing`)) start = logLineMs(line);
    else if (line.includes(`::${name}) success`)) end = logLineMs(line);
  }
  if (start === undefined || end === undefined) throw new Error(`no Check of ${name} in the engine's log (-v=7 --logtostderr)`);
  return end - start;
}

interface Preview { wallMs: number; checkMs: number }

/** One preview with the engine's verbose log: its wall time and the Check time of svc0. */
async function preview(ws: Parameters<typeof measured>[0]): Promise<Preview> {
  const t0 = performance.now();
  const res = await ws.ok(["preview", "-v=7", "--logtostderr"], 600_000);
  return { wallMs: performance.now() - t0, checkMs: checkMs(res.stderr, "svc0") };
}

export const benchmark: Benchmark = {
  name: "plan",
  summary: `what the dry-run placement adds to \`pulumi preview\` of a ${RESOURCES}-resource program with one changed Service, over a no-op preview of it`,
  async run(): Promise<BenchResult> {
    const cleanup = new Cleanup();
    const programDir = writeProgram("plan", PROGRAM);
    cleanup.teardown(() => fs.rmSync(programDir, { recursive: true, force: true }));
    const sims: SimHost[] = [];
    cleanup.teardown(() => { for (const h of sims) h.stop(); });
    try {
      const server = await benchServer(cleanup);
      const ws = await benchStack(cleanup, programDir, server, { envName: `plan-${server.prefix}` });
      // No destroy at the end: the simulated hosts do not answer an environment's teardown, and
      // the server fixture removes every key of its prefix (there are no containers).
      await timed(ws, ["up", "--yes", "--skip-preview"]);
      const out = JSON.parse((await ws.ok(["stack", "output", "--json", "--show-secrets"])).stdout);
      const stats = newSimStats();
      for (let i = 0; i < HOSTS; i++) {
        const registeredAt = new Date().toISOString();
        const { response } = await registerSimHost(server.url, simRegisterRequest(out.registrationToken, `plan-${i}`, { zone: "a" }));
        const host = new SimHost(response, registeredAt, stats, { reportObserved: true });
        sims.push(host);
        await host.start();
      }
      await ws.ok(["config", "set", "services", String(RESOURCES - 2)]);
      const upMs = await timed(ws, ["up", "--yes", "--skip-preview"], 900_000);
      // Honest previews: the no-op one changes nothing, the changed one updates exactly svc0.
      const check = await measured(ws, ["preview", "--expect-no-changes"]);
      await ws.ok(["config", "set", "changed", "check"]);
      const planned = ((JSON.parse((await ws.ok(["preview", "--json"])).stdout).steps ?? []) as any[]).filter((s) => s.op !== "same");
      if (planned.map((s) => `${s.op} ${s.urn.split("::").pop()}`).join() !== "update svc0") {
        throw new Error(`the changed preview should update svc0 only, got: ${planned.map((s) => `${s.op} ${s.urn}`).join(", ")}`);
      }
      if (typeof planned[0].newState?.inputs?.placement !== "object") throw new Error("the changed preview shows no placement");
      await ws.ok(["config", "rm", "changed"]);

      const noop: Preview[] = [];
      const changed: Preview[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        for (const which of r % 2 === 0 ? ["noop", "changed"] : ["changed", "noop"]) {
          if (which === "changed") {
            await ws.ok(["config", "set", "changed", `v${r}`]);
            changed.push(await preview(ws));
            await ws.ok(["config", "rm", "changed"]);
          } else {
            noop.push(await preview(ws));
          }
        }
      }

      // The dry run's own latency, in process: check() of svc0 with a changed env.
      const olds = { endpoint: server.url, apiKey: out.apiKey, envId: out.envId, stackId: out.stackId, name: "svc0", image: "local/busybox", command: ["sleep", "3600"], scale: 1, env: {} };
      const dryMs: number[] = [];
      const plainMs: number[] = [];
      for (let i = 0; i < 20; i++) {
        let t0 = performance.now();
        const res = await serviceProvider.check(olds, { ...olds, env: { VERSION: `x${i}` } });
        dryMs.push(performance.now() - t0);
        if (res.failures.length || typeof res.inputs.placement !== "object") throw new Error(`the dry run did not place svc0: ${JSON.stringify(res)}`);
        t0 = performance.now();
        await serviceProvider.check({ ...olds, state: "active" }, olds);
        plainMs.push(performance.now() - t0);
      }

      const value = median(changed.map((c, r) => c.checkMs - noop[r].checkMs));
      const noopWall = median(noop.map((m) => m.wallMs));
      const baseline = noopWall / RESOURCES;
      const list = (ms: Preview[], key: keyof Preview) => ms.map((m) => round(m[key], key === "checkMs" ? 1 : 0)).join(" ");
      return {
        name: "plan",
        unit: "ms added",
        value: round(value, 1),
        baseline: round(baseline, 2),
        ratio: round(value / baseline, 3),
        goal: `value <= ${GOAL_MS} ms: the dry-run placement adds at most ${GOAL_MS} ms to a preview of a ${RESOURCES}-resource program with one changed Service (the engine's Check of that Service, changed minus unchanged, median of paired rounds); ratio = value / the no-op preview's wall ms per resource (the dry run costs as much as ratio unchanged resources)`,
        ok: value <= GOAL_MS,
        extra: {
          noopPreviewMedianMs: Math.round(noopWall), changedPreviewMedianMs: Math.round(median(changed.map((m) => m.wallMs))),
          wholePreviewAddedMedianMs: Math.round(median(changed.map((c, r) => c.wallMs - noop[r].wallMs))),
          changedCheckMs: list(changed, "checkMs"), noopCheckMs: list(noop, "checkMs"),
          dryRunCheckInProcessMedianMs: round(median(dryMs), 2), unchangedCheckInProcessMedianMs: round(median(plainMs), 3),
          noopWallMs: list(noop, "wallMs"), changedWallMs: list(changed, "wallMs"),
          firstNoopPreviewMs: Math.round(check.wallMs), upWith98ServicesMs: Math.round(upMs), simErrors: stats.errors,
        },
      };
    } finally {
      await cleanup.run();
    }
  },
};
