/**
 * `logs`: lines per second through `drover logs -f` (client → server → the host's agent →
 * dockerd, over websockets) against `docker logs -f` of the same container on the same host
 * (the docker CLI straight to that host's dockerd). The container wrote LINES lines and then
 * sleeps, so each run reads the same LINES lines and is timed from the process's start to the
 * last of them (process start-up included on both sides), counted by `head -n` on its stdout
 * (bench/support/day-two-lab.ts timeToLines says why). The two alternate ROUNDS times;
 * value and baseline are medians, ratio = drover / docker. Goal: ratio ≥ 0.8.
 */
import { round, type Benchmark, type BenchResult } from "./result";
import { droverBin, median, timeToLines, withDayTwoLab } from "./support/day-two-lab";
import { waitFor } from "../test/support/wait";

const LINES = 200_000;
const ROUNDS = 7;
const GOAL = 0.8;

export const benchmark: Benchmark = {
  name: "logs",
  summary: "lines/s of `drover logs -f` vs `docker logs -f` of the same container (goal ratio >= 0.8)",
  run: () => withDayTwoLab("logs", ["sh", "-c", `seq 1 ${LINES}; exec sleep 3600`], async (lab) => {
    // The container must have written every line before a round starts.
    await waitFor(async () => {
      const ms = await timeToLines("docker", [...lab.dockerArgs, "logs", "-f", lab.containerId], LINES, undefined, 10_000).catch(() => undefined);
      return ms !== undefined;
    }, { what: `${LINES} lines in the container's log`, timeoutMs: 60_000 });
    const drover: number[] = [];
    const docker: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const d = () => timeToLines(process.execPath, [droverBin, "logs", "-f", lab.instanceId], LINES, lab.cliEnv).then((ms) => drover.push(LINES / (ms / 1000)));
      const b = () => timeToLines("docker", [...lab.dockerArgs, "logs", "-f", lab.containerId], LINES).then((ms) => docker.push(LINES / (ms / 1000)));
      if (r % 2 === 0) { await d(); await b(); } else { await b(); await d(); }
      console.error(`logs: round ${r + 1}: drover ${Math.round(drover[r])} lines/s, docker ${Math.round(docker[r])} lines/s`);
    }
    const value = median(drover);
    const baseline = median(docker);
    const ratio = value / baseline;
    return {
      name: "logs", unit: "lines/s", value: round(value, 0), baseline: round(baseline, 0), ratio: round(ratio, 3),
      goal: `ratio >= ${GOAL}: drover logs -f reads at least ${GOAL} of docker logs -f's lines per second`,
      ok: ratio >= GOAL,
      extra: { lines: LINES, rounds: ROUNDS, baselineIs: "docker -H <host socket> logs -f, same container", droverRounds: drover.map((v) => Math.round(v)).join(","), dockerRounds: docker.map((v) => Math.round(v)).join(","),
        roundRatios: drover.map((v, i) => round(v / docker[i], 2)).join(","), countedBy: "head -n LINES on each command's stdout pipe" },
    } satisfies BenchResult;
  }),
};
