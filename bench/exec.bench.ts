/**
 * `exec`: round trip of `drover exec INSTANCE -- true` (token from the server, websocket,
 * the agent dialling in, docker exec on the host, the exit code back) against `docker exec
 * CONTAINER true` straight to the same host's dockerd. Each is a whole CLI process, timed
 * from spawn to exit; they alternate, RUNS each after WARMUP, value and baseline are medians,
 * ratio = drover / docker. Goal: ratio ≤ 1.5.
 * The same round trip is also measured inside this process (no CLI start-up on either side:
 * drover's token + websocket against dockerode's exec on the host socket), in `extra`, to
 * tell the channel's cost from Node's start-up.
 */
import { round, type Benchmark, type BenchResult } from "./result";
import { droverBin, median, timedRun, withDayTwoLab, type DayTwoLab } from "./support/day-two-lab";
import { execIn } from "./support/docker-exec";
import { spawn } from "child_process";
import * as path from "path";
import { DroverApi } from "../runtime/cli/day-two/api-client";
import { connectStream } from "../runtime/cli/day-two/stream-client";
import { readConfigFile } from "../runtime/cli/day-two/settings";
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { bundleCli } = require("../../scripts/bundle-cli") as { bundleCli(): Promise<void> };

const RUNS = 20;
const WARMUP = 2;
const GOAL = 1.5;

export const benchmark: Benchmark = {
  name: "exec",
  summary: "round trip of `drover exec -- true` vs `docker exec` on the same host (goal ratio <= 1.5)",
  run: () => withDayTwoLab("exec", ["sleep", "3600"], async (lab) => {
    // What `npm run build` ships: the day-two commands prebuilt as one file each.
    await bundleCli();
    const d = () => timedRun(process.execPath, [droverBin, "exec", lab.instanceId, "--", "true"], lab.cliEnv);
    const b = () => timedRun("docker", [...lab.dockerArgs, "exec", lab.containerId, "true"]);
    for (let i = 0; i < WARMUP; i++) { await d(); await b(); }
    const drover: number[] = [];
    const docker: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      if (r % 2 === 0) { drover.push(await d()); docker.push(await b()); } else { docker.push(await b()); drover.push(await d()); }
    }
    const inDrover: Phases[] = [];
    const inDocker: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      inDrover.push(await inProcessDrover(lab));
      const t0 = performance.now();
      await execIn(lab.drover.dockerOf.values().next().value!, lab.containerId, ["true"]);
      inDocker.push(performance.now() - t0);
    }
    // What drover adds beyond node's own start-up, for the note.
    const nodeRuns: number[] = [];
    const cliRuns: number[] = [];
    for (let i = 0; i < 7; i++) {
      nodeRuns.push(await timedRun(process.execPath, ["-e", "0"]));
      cliRuns.push(await timedRun(process.execPath, [droverBin, "exec", "--help"]));
    }
    const nodeStart = median(nodeRuns);
    // Where a CLI run's time goes (bench/support/cli-marks.ts), and one CPU profile of a run.
    const marked: Array<Record<string, number>> = [];
    for (let i = 0; i < 7; i++) marked.push(await markedRun(lab));
    const profileDir = path.join("/var/lib/drover/log", `exec-cpu-profile-${Date.now()}`);
    await timedRun(process.execPath, ["--cpu-prof", "--cpu-prof-dir", profileDir, droverBin, "exec", lab.instanceId, "--", "true"], lab.cliEnv);
    const phase = (name: string) => round(median(marked.map((m) => m[name])), 1);
    const inTotal = median(inDrover.map((p) => p.total));
    const value = median(drover);
    const baseline = median(docker);
    const ratio = value / baseline;
    return {
      name: "exec", unit: "ms", value: round(value, 1), baseline: round(baseline, 1), ratio: round(ratio, 3),
      goal: `ratio <= ${GOAL}: drover exec -- true takes at most ${GOAL}x docker exec's round trip`,
      ok: ratio <= GOAL,
      extra: {
        runs: RUNS, baselineIs: "docker -H <host socket> exec CONTAINER true, same container",
        droverP90Ms: round([...drover].sort((a, b) => a - b)[Math.floor(RUNS * 0.9)], 1),
        dockerP90Ms: round([...docker].sort((a, b) => a - b)[Math.floor(RUNS * 0.9)], 1),
        nodeStartMs: round(nodeStart, 1),
        // `drover exec --help`: node plus loading the exec command, no network.
        cliStartMs: round(median(cliRuns), 1),
        cliBootMs: phase("boot"), cliTokenRequestAtMs: phase("requestStart"), cliTokenAnsweredAtMs: phase("responseEnd"),
        cliUpgradeAtMs: phase("upgradeStart"), cliExitAtMs: phase("exit"), cpuProfileDir: profileDir,
        inProcessDroverMs: round(inTotal, 1),
        inProcessTokenMs: round(median(inDrover.map((p) => p.token)), 1),
        inProcessOpenMs: round(median(inDrover.map((p) => p.open)), 1),
        inProcessExitMs: round(median(inDrover.map((p) => p.total - p.open - p.token)), 1),
        inProcessDockerodeMs: round(median(inDocker), 1),
        inProcessRatio: round(inTotal / median(inDocker), 3),
      },
    } satisfies BenchResult;
  }),
};

interface Phases { token: number; open: number; total: number }

/** One `exec -- true` the way the CLI does it, inside this process: token, websocket, exit code. */
async function inProcessDrover(lab: DayTwoLab): Promise<Phases> {
  const api = new DroverApi(readConfigFile(lab.cliEnv.DROVER_CONFIG!) as any);
  const t0 = performance.now();
  const grant = await api.call("POST", `${await api.envPath("instances", lab.instanceId)}?action=execute`, { command: ["true"] });
  const t1 = performance.now();
  const ws = await connectStream(grant.url, grant.token, { ...api.tlsOptions(), agent: api.agent });
  const t2 = performance.now();
  let code: number | undefined;
  await new Promise<void>((resolve) => {
    ws.on("message", (data: Buffer, isBinary) => { if (!isBinary) code = JSON.parse(data.toString()).code; });
    ws.once("close", () => resolve());
  });
  if (code !== 0) throw new Error(`drover exec -- true: exit ${code}`);
  return { token: t1 - t0, open: t2 - t1, total: performance.now() - t0 };
}

/** A CLI run with bench/support/cli-marks.ts preloaded: its marks (ms since the process started). */
function markedRun(lab: DayTwoLab): Promise<Record<string, number>> {
  const marks = path.join(__dirname, "support", "cli-marks.js");
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["-r", marks, droverBin, "exec", lab.instanceId, "--", "true"], { env: lab.cliEnv, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    proc.stderr.on("data", (c) => { err += c; });
    proc.once("error", reject);
    proc.once("exit", (code) => {
      const line = /DROVER_MARKS (.*)/.exec(err)?.[1];
      if (code !== 0 || !line) return reject(new Error(`drover exec (marked) exited ${code}: ${err.trim().slice(0, 300)}`));
      const list = JSON.parse(line) as Array<[string, number]>;
      const requests = list.filter(([n]) => n === "requestStart");
      resolve({
        boot: list[0][1], requestStart: requests[0]?.[1], upgradeStart: requests[requests.length - 1]?.[1],
        responseEnd: list.find(([n]) => n === "responseEnd")?.[1] ?? NaN, exit: list[list.length - 1][1],
      });
    });
  });
}
