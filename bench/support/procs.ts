/**
 * Child processes of a benchmark: started with their output in a log file, stopped by their
 * own pid only (never by name), and their memory read from /proc.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** The checkout (this file runs from dist/bench/support). */
export const repoRoot = path.resolve(__dirname, "../../..");
export const droverBin = path.join(repoRoot, "bin", "drover.js");

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** The process has not exited yet. */
  alive(): boolean;
  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/** Starts `argv` with stdout and stderr appended to `logFile`. */
export function spawnLogged(argv: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): Child {
  const out = fs.openSync(logFile, "a");
  const proc = spawn(argv[0], argv.slice(1), { stdio: ["ignore", out, out], env });
  fs.closeSync(out);
  return wrap(proc);
}

export function wrap(proc: ChildProcess): Child {
  if (!proc.pid) throw new Error(`could not start ${proc.spawnfile}`);
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once("exit", () => resolve());
  });
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  return {
    proc,
    pid: proc.pid,
    alive,
    async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 5000) {
      if (!alive()) return;
      proc.kill(signal);
      const timer = setTimeout(() => { if (alive()) proc.kill("SIGKILL"); }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `drover server` as a child process (flags as in runtime/server/server-command.ts). */
export function spawnServer(opts: {
  listen: string; redis: string; adminKeyFile: string; keyPrefix: string; logFile: string;
  agentRedis?: string; disconnectGrace?: string; serverId?: string;
  /** More `drover server` flags (e.g. --api-tls on --tls-dir DIR). */
  extraArgs?: string[];
}): Child {
  // DROVER_BENCH_SERVER_NODE_ARGS: extra node flags for the server (e.g. --cpu-prof), to look into a run.
  const nodeArgs = (process.env.DROVER_BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  return spawnLogged([process.execPath, ...nodeArgs, droverBin, "server",
    "--listen", opts.listen, "--redis", opts.redis, "--admin-key-file", opts.adminKeyFile, "--key-prefix", opts.keyPrefix,
    ...(opts.agentRedis ? ["--agent-redis", opts.agentRedis] : []),
    ...(opts.disconnectGrace ? ["--disconnect-grace", opts.disconnectGrace] : []),
    ...(opts.serverId ? ["--server-id", opts.serverId] : []),
    ...(opts.extraArgs ?? []),
  ], opts.logFile);
}

/** A field of /proc/<pid>/status in MB (VmRSS, VmHWM, ...). */
export function procStatusMb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** CPU seconds (user + system) a process has used so far. */
export function procCpuSeconds(pid: number, ticksPerSecond = 100): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
