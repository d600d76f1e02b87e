/**
 * One HAProxy in master-worker mode (`-W -S <master socket>`): started, adopted, reloaded,
 * stopped. The master re-executes itself on `reload` with the same arguments (so it re-reads
 * the same config path) and hands the listening sockets to the new worker over its internal
 * socketpair (the `-x sockpair@` form, enabled by `expose-fd listeners`), so a reload refuses
 * no connection, and the old worker finishes the requests it has before it exits.
 *
 * HAProxy outlives the agent: it runs in its own session (a Ctrl-C or a signal to the
 * agent's process group does not reach it) with its output going to a file, not a pipe. A
 * new agent finds it through the pid file and adopts it if its master CLI answers.
 */
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import { cliCommand } from "./cli-socket";
import { parseShowProc, ProcInfo } from "./cli-answers";
import type { LbPaths } from "./paths";
import { procCmdline, procStartTime, sendSignal } from "./proc-info";

export const DEFAULT_HAPROXY = "/usr/sbin/haproxy";

export interface CheckResult {
  ok: boolean;
  /** HAProxy's complaint (its ALERT lines), when not ok. */
  message: string;
}

/** `haproxy -c`: would HAProxy accept this config (syntax, certificates, references)? */
export function checkConfig(bin: string, file: string, timeoutMs = 20_000): Promise<CheckResult> {
  return new Promise((resolve) => {
    // Not -q: quiet mode hides the ALERT lines that say what is wrong.
    execFile(bin, ["-c", "-f", file], { timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, message: "" });
      const text = `${stdout}\n${stderr}`;
      resolve({ ok: false, message: alerts(text) || (err as Error).message });
    });
  });
}

/** The ALERT lines of HAProxy's output, without their prefixes, on one line. */
export function alerts(text: string): string {
  return text
    .split("\n")
    .filter((l) => /\[ALERT\]/.test(l))
    .map((l) => l.replace(/^\s*\[ALERT\]\s*(\(\d+\)\s*)?:\s*/, "").replace(/^config\s*:\s*/, "").trim())
    .filter((l) => l && !/^Fatal errors found in configuration|^Error\(s\) found in configuration file/.test(l))
    .join("; ")
    .slice(0, 2000);
}

export class HaproxyMaster {
  private exited?: { code: number | null; signal: string | null };
  private exitWaiters: (() => void)[] = [];
  private exitListeners: (() => void)[] = [];

  private constructor(
    readonly pid: number,
    private readonly startTime: string,
    private readonly paths: LbPaths,
    private readonly child?: ChildProcess,
  ) {
    child?.once("exit", (code, signal) => {
      this.exited = { code, signal };
      for (const w of this.exitWaiters.splice(0)) w();
      for (const l of this.exitListeners) l();
    });
  }

  /** Starts a new master with `paths.config`. Resolves once it is forked; `waitReady` says when it serves. */
  static spawn(bin: string, paths: LbPaths): HaproxyMaster {
    if (paths.masterSocket.includes(",")) throw new Error(`master socket path ${paths.masterSocket} must not contain a comma`);
    fs.rmSync(paths.pidFile, { force: true });
    const out = fs.openSync(paths.log, "a", 0o600);
    try {
      const child = spawn(bin, ["-W", "-S", `${paths.masterSocket},mode,600`, "-f", paths.config], {
        stdio: ["ignore", out, out],
        detached: true,
      });
      child.on("error", () => undefined); // an exec failure shows as an exit, handled by the caller's supervision
      child.unref();
      const start = child.pid ? procStartTime(child.pid) : undefined;
      if (!child.pid || start === undefined) throw new Error(`${bin} did not start`);
      return new HaproxyMaster(child.pid, start, paths, child);
    } finally {
      fs.closeSync(out);
    }
  }

  /** The HAProxy master the pid file names, if that process lives and was started with this config. */
  static find(paths: LbPaths): HaproxyMaster | undefined {
    let pid: number;
    try {
      pid = Number(fs.readFileSync(paths.pidFile, "utf8").trim());
    } catch {
      return undefined;
    }
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const start = procStartTime(pid);
    if (start === undefined || !procCmdline(pid).includes(paths.config)) return undefined;
    return new HaproxyMaster(pid, start, paths);
  }

  /**
   * The HAProxy a previous agent left running for these paths, if its master CLI answers
   * with a worker. undefined otherwise.
   */
  static async adopt(paths: LbPaths): Promise<HaproxyMaster | undefined> {
    const m = HaproxyMaster.find(paths);
    return m && (await m.answers()) ? m : undefined;
  }

  /** Its master CLI answers and a worker runs. */
  async answers(): Promise<boolean> {
    try {
      const info = await this.showProc(2000);
      return info.masterPid === this.pid && info.workers.length > 0;
    } catch {
      return false;
    }
  }

  /** Called at once when a master we started exits (an adopted one is not our child: poll `alive`). */
  onExit(listener: () => void): void {
    this.exitListeners.push(listener);
  }

  alive(): boolean {
    return !this.exited && procStartTime(this.pid) === this.startTime;
  }

  /** Our child has died but Node has not delivered its exit (and with it, how it ended) yet. */
  exitPending(): boolean {
    return this.child !== undefined && !this.exited;
  }

  /** How it ended, when it was our child (an adopted master is watched through /proc). */
  exitReason(): string {
    if (!this.exited) return "exited";
    return this.exited.signal ? `killed by ${this.exited.signal}` : `exited with code ${this.exited.code}`;
  }

  showProc(timeoutMs = 2000): Promise<ProcInfo> {
    return cliCommand(this.paths.masterSocket, "show proc", timeoutMs).then(parseShowProc);
  }

  /** Waits until a worker runs and answers on the runtime socket; throws if the master dies first. */
  async waitReady(timeoutMs = 15_000): Promise<ProcInfo> {
    return this.poll(timeoutMs, "start", async () => {
      const info = await this.showProc();
      if (info.workers.length === 0) return undefined;
      return (await this.workerAnswers(info.workers[0])) ? info : undefined;
    });
  }

  /**
   * A seamless reload through the master CLI. Resolves with the new process list once the
   * new worker answers on the runtime socket; throws when the master reports the reload
   * failed (it keeps the old worker serving then).
   */
  async reload(timeoutMs = 15_000): Promise<ProcInfo> {
    const before = await this.showProc();
    await cliCommand(this.paths.masterSocket, "reload", timeoutMs).catch(() => ""); // the master closes the connection as it re-executes
    return this.poll(timeoutMs, "reload", async () => {
      const info = await this.showProc();
      if (info.reloads <= before.reloads) return undefined;
      if (info.failedReloads > before.failedReloads) throw new ReloadFailed();
      const fresh = info.workers.find((w) => !before.workers.includes(w));
      if (fresh === undefined) return undefined;
      return (await this.workerAnswers(fresh)) ? info : undefined;
    });
  }

  /** Stops master and workers: SIGTERM (HAProxy's hard stop), then SIGKILL after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    const workers = await this.showProc(1000).then((i) => [...i.workers, ...i.oldWorkers]).catch(() => [] as number[]);
    const procs = [{ pid: this.pid, start: this.startTime }, ...workers.map((pid) => ({ pid, start: procStartTime(pid) }))]
      .filter((p): p is { pid: number; start: string } => p.start !== undefined);
    const running = () => procs.filter((p) => procStartTime(p.pid) === p.start);
    for (const p of running()) sendSignal(p.pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (running().length && Date.now() < deadline) await pause(20);
    for (const p of running()) sendSignal(p.pid, "SIGKILL");
    const killDeadline = Date.now() + 2000;
    while (running().length && Date.now() < killDeadline) await pause(20);
  }

  /** Resolves when the master has exited (our child: at once on its exit; adopted: polled). */
  async waitExit(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.alive() && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.exitWaiters.push(() => { clearTimeout(t); r(); });
      });
    }
    return !this.alive();
  }

  private async workerAnswers(pid: number): Promise<boolean> {
    const info = await cliCommand(this.paths.runtimeSocket, "show info", 1000).catch(() => "");
    return new RegExp(`^Pid: ${pid}$`, "m").test(info);
  }

  private async poll<T>(timeoutMs: number, verb: string, attempt: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let interval = 10;
    let last: unknown;
    for (;;) {
      if (!this.alive()) throw new Error(`haproxy (pid ${this.pid}) ${this.exitReason()} before it could ${verb}`);
      try {
        const v = await attempt();
        if (v !== undefined) return v;
      } catch (err) {
        if (err instanceof ReloadFailed) throw err;
        last = err;
      }
      if (Date.now() > deadline) {
        throw new Error(`haproxy (pid ${this.pid}) did not ${verb} within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ""}`);
      }
      await pause(interval);
      interval = Math.min(interval * 2, 100);
    }
  }
}

export class ReloadFailed extends Error {
  constructor() {
    super("haproxy refused the reload (the previous worker keeps serving)");
    this.name = "ReloadFailed";
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
