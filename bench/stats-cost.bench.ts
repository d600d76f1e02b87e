/**
 * stats-cost: what it costs to sample 100 containers' CPU and memory every 2 s, the agent's
 * way (agent/stats: cgroup files, one container list per sample) against `docker stats
 * --no-stream` doing the same sampling (one call per 2 s for the same 100 containers).
 *
 * 100 busybox containers run on the machine's dockerd. Each side runs SAMPLES samples, one
 * every 2 s, and is charged for all the CPU the sampling takes:
 * - drover: this process's CPU (process.cpuUsage) + dockerd's CPU (from /proc/<pid>/stat),
 * - baseline: the docker CLI processes' CPU (this process's waited-for children, cutime +
 *   cstime of /proc/self/stat) + dockerd's CPU.
 * value and baseline are CPU ms per sample of 100 containers; ratio = value / baseline.
 * The sides alternate for ROUNDS rounds (dockerd is shared with other work on the machine);
 * the figures are medians. Goal: ratio ≤ 0.5.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import { promisify } from "util";
import Docker from "dockerode";
import { StatsSampler } from "../agent/stats/sampler";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { median } from "./support/procs";

const run = promisify(execFile);
const CONTAINERS = Number(process.env.STATS_BENCH_CONTAINERS ?? 100);
const SAMPLES = Number(process.env.STATS_BENCH_SAMPLES ?? 5);
const ROUNDS = Number(process.env.STATS_BENCH_ROUNDS ?? 3);
const INTERVAL_MS = 2000;
const GOAL = 0.5;
const TICK_MS = 1000 / 100; // USER_HZ

function dockerdPid(): number {
  return Number(fs.readFileSync("/var/run/docker.pid", "utf8").trim());
}

/** utime + stime (and, for `self`, the waited-for children's) in ms. */
function procCpuMs(pid: number | "self", children = false): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  // Fields after the command: state is f[0], utime f[11], stime f[12], cutime f[13], cstime f[14].
  return (f[11] + f[12] + (children ? f[13] + f[14] : 0)) * TICK_MS;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Runs `take` once per interval, SAMPLES times; returns the CPU charged per sample. */
async function measure(take: () => Promise<unknown>, cpu: () => number): Promise<number> {
  const dockerd = dockerdPid();
  const before = cpu() + procCpuMs(dockerd);
  const start = Date.now();
  for (let i = 0; i < SAMPLES; i++) {
    await take();
    await wait(start + (i + 1) * INTERVAL_MS - Date.now());
  }
  return (cpu() + procCpuMs(dockerd) - before) / SAMPLES;
}

export const benchmark: Benchmark = {
  name: "stats-cost",
  summary: "CPU to sample 100 containers every 2 s: agent (cgroup files) vs docker stats --no-stream",
  async run(): Promise<BenchResult> {
    const docker = new Docker();
    const label = `drover-bench-stats=${process.pid}`;
    const ids: string[] = [];
    try {
      for (let i = 0; i < CONTAINERS; i += 10) {
        const batch = await Promise.all(Array.from({ length: Math.min(10, CONTAINERS - i) }, async () => {
          const c = await docker.createContainer({ Image: "local/busybox", Cmd: ["sleep", "100000"], Labels: { "drover-bench-stats": String(process.pid) }, HostConfig: { NetworkMode: "none" } });
          await c.start();
          return c.id;
        }));
        ids.push(...batch);
      }
      const sampler = new StatsSampler({
        list: async () => (await docker.listContainers({ filters: { label: [label], status: ["running"] } }))
          .map((c) => ({ id: c.Id, name: (c.Names[0] ?? "").replace(/^\//, "") })),
        pid: async (id) => (await docker.getContainer(id).inspect()).State.Pid || undefined,
      });
      const first = await sampler.sample(); // finds the cgroups once, as an agent does at its start
      if (first.containers.length !== CONTAINERS) throw new Error(`sampled ${first.containers.length} containers, not ${CONTAINERS}`);
      let sampled = 0;
      const droverSide = () => measure(async () => { sampled = (await sampler.sample()).containers.length; }, () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      });
      let lines = 0;
      const dockerSide = () => measure(async () => {
        const { stdout } = await run("docker", ["stats", "--no-stream", "--format", "{{.ID}} {{.CPUPerc}} {{.MemUsage}}", ...ids], { maxBuffer: 16 << 20 });
        lines = stdout.trim().split("\n").length;
      }, () => procCpuMs("self", true) - procCpuMs("self"));
      const drover: number[] = [];
      const baseline: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        drover.push(await droverSide());
        baseline.push(await dockerSide());
      }
      if (sampled !== CONTAINERS || lines !== CONTAINERS) throw new Error(`sampled ${sampled} (agent) and ${lines} (docker stats), not ${CONTAINERS}`);
      const value = median(drover);
      const base = median(baseline);
      const ratio = value / base;
      return {
        name: "stats-cost", unit: "CPU ms per sample of 100 containers", value: round(value, 1), baseline: round(base, 1), ratio: round(ratio, 4),
        goal: `ratio ≤ ${GOAL} (agent sampling vs docker stats --no-stream, every ${INTERVAL_MS} ms)`, ok: ratio <= GOAL,
        extra: { containers: CONTAINERS, samplesPerRound: SAMPLES, rounds: ROUNDS, droverRounds: drover.map((x) => round(x, 1)).join(" "), baselineRounds: baseline.map((x) => round(x, 1)).join(" ") },
      };
    } finally {
      await Promise.all(ids.map((id) => docker.getContainer(id).remove({ force: true }).catch(() => undefined)));
    }
  },
};
