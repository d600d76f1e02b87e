import { spawn } from "child_process";
import { WaitAbort, waitFor, WaitTimeoutError } from "../../runtime/protocol/poll";
import * as fs from "fs";
import * as path from "path";
import type { Logger } from "../log";
import { charonConf, EspMode } from "./ipsec-config";
import { ViciClient } from "./vici/client";

const binaryCandidates = ["/usr/lib/ipsec/charon", "/usr/libexec/ipsec/charon", "/usr/lib/strongswan/charon", "/usr/libexec/strongswan/charon"];

export function charonBinary(): string {
  const override = process.env.DROVER_CHARON;
  if (override) return override;
  const found = binaryCandidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`strongSwan's charon not found (looked in ${binaryCandidates.join(", ")}; set DROVER_CHARON)`);
  return found;
}

/** Where the agent keeps its charon's files (under the agent's state dir). */
export interface CharonPaths {
  dir: string;
  conf: string;
  socket: string;
  log: string;
  /** Our record of the charon we started: pid and its start time (so a reused pid is not mistaken for it). */
  pidRecord: string;
}

export function charonPaths(stateDir: string): CharonPaths {
  const dir = path.join(stateDir, "ipsec");
  return { dir, conf: path.join(dir, "strongswan.conf"), socket: path.join(dir, "charon.vici"), log: path.join(dir, "charon.log"), pidRecord: path.join(dir, "charon.pid") };
}

/**
 * The host's charon process: it outlives an agent restart (its output goes to a file, not
 * a pipe, and the agent does not wait for it), so tunnels do not drop when only the agent
 * restarts; the next agent adopts it when it still answers. Stopped by its own pid. Supervision (restart when it dies) is the caller's: the
 * vici connection closing is the signal.
 */
export class CharonProcess {
  readonly paths: CharonPaths;

  constructor(stateDir: string, private readonly log: Logger) {
    this.paths = charonPaths(stateDir);
  }

  /** The pid of our charon if it runs (per our record), else undefined. */
  runningPid(): number | undefined {
    let rec: { pid?: number; start?: string };
    try {
      rec = JSON.parse(fs.readFileSync(this.paths.pidRecord, "utf8"));
    } catch {
      return undefined;
    }
    if (!rec.pid || procStart(rec.pid) !== rec.start) return undefined;
    return rec.pid;
  }

  /**
   * A vici connection to a running charon: the one already running when it answers (same
   * ESP mode), else a fresh one (an unresponsive or wrong-mode leftover is stopped first).
   */
  async connect(mode: EspMode): Promise<{ client: ViciClient; adopted: boolean }> {
    fs.mkdirSync(this.paths.dir, { recursive: true, mode: 0o700 });
    const conf = charonConf({ mode, viciSocket: this.paths.socket, logFile: this.paths.log });
    const existing = this.runningPid();
    if (existing !== undefined) {
      const sameConf = readIfExists(this.paths.conf) === conf;
      const client = sameConf ? await ViciClient.connect(this.paths.socket, 1_000).catch(() => undefined) : undefined;
      if (client) {
        this.log.info("adopted running charon", { pid: existing });
        return { client, adopted: true };
      }
      this.log.warn("stopping a charon that does not answer (or runs another configuration)", { pid: existing });
      await this.stop();
    }
    fs.writeFileSync(this.paths.conf, conf, { mode: 0o600 });
    fs.rmSync(this.paths.socket, { force: true });
    const pid = this.spawn();
    const client = await waitForVici(this.paths.socket, pid, 5_000);
    this.log.info("charon started", { pid, mode });
    return { client, adopted: false };
  }

  private spawn(): number {
    const out = fs.openSync(this.paths.log, "a", 0o600);
    try {
      // Not detached: a new session would put charon in its own scheduler autogroup, which
      // halved tunnel throughput here under load. It outlives the agent anyway (no pipes, unref).
      const child = spawn(charonBinary(), [], {
        env: { ...process.env, STRONGSWAN_CONF: this.paths.conf },
        stdio: ["ignore", out, out],
      });
      child.on("error", (err) => this.log.error("charon could not be started", { reason: err.message }));
      child.unref();
      if (!child.pid) throw new Error("charon did not start (no pid)");
      fs.writeFileSync(this.paths.pidRecord, JSON.stringify({ pid: child.pid, start: procStart(child.pid) }) + "\n", { mode: 0o600 });
      return child.pid;
    } finally {
      fs.closeSync(out);
    }
  }

  /** Stops our charon (SIGTERM, then SIGKILL after 3 s) by its recorded pid. */
  async stop(): Promise<void> {
    const pid = this.runningPid();
    if (pid !== undefined) {
      signal(pid, "SIGTERM");
      const deadline = Date.now() + 3_000;
      while (procStart(pid) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      if (procStart(pid) !== undefined) signal(pid, "SIGKILL");
      while (procStart(pid) !== undefined && Date.now() < deadline + 2_000) await new Promise((r) => setTimeout(r, 25));
      this.log.info("charon stopped", { pid });
    }
    fs.rmSync(this.paths.pidRecord, { force: true });
  }
}

async function waitForVici(socket: string, pid: number, timeoutMs: number): Promise<ViciClient> {
  try {
    return await waitFor(async () => {
      try {
        return await ViciClient.connect(socket, 1_000);
      } catch (err) {
        // A zombie counts as gone: charon exited (e.g. rc 66, "already running").
        const state = procState(pid);
        if (state === undefined || state === "Z") throw new WaitAbort(`charon (pid ${pid}) exited before its vici socket answered; see its log`);
        throw err;
      }
    }, { what: `charon's vici socket ${socket}`, timeoutMs, intervalMs: 10, maxIntervalMs: 100 });
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err;
    throw new Error(`charon (pid ${pid}) vici socket ${socket} did not answer within ${timeoutMs} ms: ${(err.lastError as Error)?.message ?? "no answer"}`);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

function procStat(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may contain spaces or parens: fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** The process's start time (clock ticks since boot) as text, or undefined when it is gone or a zombie. */
function procStart(pid: number): string | undefined {
  const f = procStat(pid);
  if (!f || f[0] === "Z") return undefined;
  return f[19];
}

function procState(pid: number): string | undefined {
  return procStat(pid)?.[0];
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
