/**
 * The set-up the `logs` and `exec` benchmarks share: a lab of one host running drover (server
 * and Redis on the lab gateway, the agent in the host), one service of one container, and a
 * CLI config as `drover login` writes it. Both sides of each comparison are CLI processes on
 * this machine: `drover …` through the server and the host's agent, `docker -H <host socket> …`
 * straight to the same host's dockerd, for the same container.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Lab } from "../../test/lab";
import type { ControlPlane } from "../../test/support/control-plane";
import { waitFor } from "../../test/support/wait";
import { containerOfInstance, startDrover, type DroverLab } from "./drover-lab";
import { keepLogs } from "./keep-logs";
import { cleanupOnSignal } from "./on-signal";

export const droverBin = path.resolve(__dirname, "../../../bin/drover.js");

export interface DayTwoLab {
  drover: DroverLab;
  instanceId: string;
  containerId: string;
  /** Environment for `drover` processes (DROVER_CONFIG pointing at the login file). */
  cliEnv: NodeJS.ProcessEnv;
  /** `docker -H unix://…` of the container's host. */
  dockerArgs: string[];
}

/** Runs `body` with the lab up and one instance running `command`; tears everything down after (or on Ctrl-C). */
export async function withDayTwoLab<T>(name: string, command: string[], body: (lab: DayTwoLab) => Promise<T>): Promise<T> {
  let lab: Lab | undefined;
  let cp: ControlPlane | undefined;
  const cleanup = cleanupOnSignal(async () => {
    if (cp) {
      await cp.stop().catch((err) => console.error(`${name}: control plane stop:`, err));
      const kept = keepLogs(cp.logDir, name);
      if (kept) console.error(`${name}: server and agent logs in ${kept}`);
    }
    if (lab) await lab.down();
  });
  try {
    lab = await Lab.up({ hosts: 1, name: `bench-${name}`, watchdog: true });
    const drover = await startDrover(lab, lab.hosts, `bench-${name}`, (c) => { cp = c; });
    const { env } = drover;
    const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "bench" });
    const svc = await env.api.ok("POST", `${env.base}/services`, { name: name, stackId: stack.id, image: "local/busybox", command, scale: 1 });
    const instance = await waitFor(async () => {
      const [i] = (await env.api.ok("GET", `${env.base}/instances?serviceId=${svc.id}`)).data as any[];
      return i?.state === "active" ? i : false;
    }, { what: "the benchmark's instance", timeoutMs: 60_000 });
    const host = lab.hosts[0];
    const containerId = (await containerOfInstance(drover.dockerOf.get(host.name)!, instance.id))!;
    const config = path.join(lab.runDir, "cli.json");
    fs.writeFileSync(config, JSON.stringify({ url: drover.cp.url, accessKey: env.apiKey, envId: env.id }), { mode: 0o600 });
    return await body({ drover, instanceId: instance.id, containerId, cliEnv: { ...process.env, DROVER_CONFIG: config }, dockerArgs: ["-H", `unix://${host.dockerSocket}`] });
  } finally {
    await cleanup.run();
  }
}

/** Runs a command; resolves with its wall time (ms) once it exits 0 (rejects otherwise). */
export function timedRun(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    proc.stderr.on("data", (c) => { err += c; });
    proc.once("error", reject);
    proc.once("exit", (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${err.trim().slice(0, 300)}`));
    });
  });
}

/**
 * Runs a following command (`logs -f`) until `lines` lines came out on stdout, then stops it;
 * resolves with the wall time (ms) from its start to the last of those lines.
 *
 * The lines are counted by `head -n LINES` reading the command's stdout pipe, not by this
 * process: a Node reader pays per chunk, so a command writing one line per write (the docker
 * CLI does) was held back by this process's own load, which made the baseline swing 5× from
 * run to run. head reads whatever is in the pipe at once and exits at the last line.
 */
export function timeToLines(cmd: string, args: string[], lines: number, env?: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const head = spawn("head", ["-n", String(lines)], { stdio: ["pipe", "pipe", "ignore"] });
    const proc = spawn(cmd, args, { env, stdio: ["ignore", head.stdin, "pipe"] });
    // The pipe's write end is the command's alone: head sees its end when the command exits.
    head.stdin.destroy();
    let seen = 0;
    let err = "";
    const stop = () => { clearTimeout(timer); proc.kill("SIGKILL"); head.kill("SIGKILL"); };
    const timer = setTimeout(() => { stop(); reject(new Error(`${cmd}: only ${seen} of ${lines} lines within ${timeoutMs} ms: ${err.trim().slice(0, 300)}`)); }, timeoutMs);
    proc.stderr!.on("data", (c) => { err += c; });
    // head copies the lines it counts; only their number matters here (for the error above).
    head.stdout.on("data", (chunk: Buffer) => { for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) seen++; });
    let ms = 0;
    head.once("exit", () => { ms = Number(process.hrtime.bigint() - started) / 1e6; });
    // After exit and once head's output is all read.
    head.once("close", () => {
      stop();
      if (seen >= lines) resolve(ms);
      else reject(new Error(`${cmd}: ended after ${seen} of ${lines} lines: ${err.trim().slice(0, 300)}`));
    });
    proc.once("error", (e) => { stop(); reject(e); });
  });
}

/** The benches' one median, re-exported for the day-two benches' imports. */
export { median } from "./procs";
