import { spawn } from "child_process";
import * as fs from "fs";
import { waitFor } from "../support/wait";

/** Result of a finished command. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs argv to completion and collects its output; never throws for a non-zero exit. */
export function run(argv: string[], opts: RunOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"], env: opts.env ?? process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = opts.timeoutMs
      ? setTimeout(() => { stderr += `\n[killed after ${opts.timeoutMs} ms]`; child.kill("SIGKILL"); }, opts.timeoutMs)
      : undefined;
    child.on("error", (err) => { if (timer) clearTimeout(timer); reject(err); });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on("error", () => { /* the command may exit without reading its input */ });
    child.stdin.end(opts.input ?? "");
  });
}

/** Like run() but throws with the command's stderr when it exits non-zero. */
export async function runOk(argv: string[], opts: RunOptions = {}): Promise<ExecResult> {
  const res = await run(argv, opts);
  if (res.code !== 0) {
    const shown = argv.map((a) => (a.length > 60 ? `${a.slice(0, 57).replace(/\n/g, " ")}...` : a)).join(" ");
    throw new Error(`\`${shown}\` exited ${res.code}: ${(res.stderr || res.stdout).trim()}`);
  }
  return res;
}

/**
 * A process as the lab knows it: pid plus start time (clock ticks since boot, field 22 of
 * /proc/<pid>/stat), so a recycled pid is never mistaken for ours and never killed.
 */
export interface ProcRef {
  pid: number;
  start: number;
}

interface StatInfo { state: string; ppid: number; start: number }

function readStat(pid: number): StatInfo | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: split after the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: rest[0], ppid: Number(rest[1]), start: Number(rest[19]) };
}

/** ProcRef for a live pid, or undefined if it is gone. */
export function procRef(pid: number): ProcRef | undefined {
  const st = readStat(pid);
  return st ? { pid, start: st.start } : undefined;
}

/** True while the very process (pid and start time) exists and is not a zombie. */
export function isAlive(ref: ProcRef): boolean {
  const st = readStat(ref.pid);
  return !!st && st.start === ref.start && st.state !== "Z" && st.state !== "X";
}

/** Sends a signal only if the pid still belongs to the referenced process. */
export function signal(ref: ProcRef, sig: NodeJS.Signals): boolean {
  if (!isAlive(ref)) return false;
  try {
    process.kill(ref.pid, sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops processes: `sig` first, SIGKILL after graceMs, then waits until all are gone.
 * Zombies count as gone (whoever reaps orphans here may be slow or absent).
 */
export async function stopProcs(refs: ProcRef[], opts: { sig?: NodeJS.Signals; graceMs?: number; what: string }): Promise<void> {
  const live = refs.filter(isAlive);
  if (live.length === 0) return;
  for (const r of live) signal(r, opts.sig ?? "SIGTERM");
  try {
    await waitFor(() => live.every((r) => !isAlive(r)), { what: `${opts.what} to exit`, timeoutMs: opts.graceMs ?? 5000 });
  } catch {
    for (const r of live) signal(r, "SIGKILL");
    await waitFor(() => live.every((r) => !isAlive(r)), { what: `${opts.what} to die after SIGKILL`, timeoutMs: 5000 });
  }
}

/** Every live (non-zombie) process on the machine. */
export function listProcs(): ProcRef[] {
  const out: ProcRef[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const st = readStat(pid);
    if (st && st.state !== "Z" && st.state !== "X") out.push({ pid, start: st.start });
  }
  return out;
}

export function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
  } catch {
    return "";
  }
}

export function cgroupsOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cgroup`, "utf8");
  } catch {
    return "";
  }
}

/** Inode of a namespace of a process (e.g. "net"), comparable with stat() of /run/netns/X. */
export function nsInode(pid: number, ns: string): number | undefined {
  try {
    return fs.statSync(`/proc/${pid}/ns/${ns}`).ino;
  } catch {
    return undefined;
  }
}

/** Last lines of a log file, for error messages. */
export function tailFile(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return `(no ${file})`;
  }
}
