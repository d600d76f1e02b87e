/**
 * Parsers for what HAProxy's CLI answers (pure, unit-tested against captured output).
 */
import type { AdminState } from "./slots";

export interface ServerState {
  backend: string;
  name: string;
  addr: string;
  port: number;
  admin: AdminState;
  /** Operational state: false when HAProxy considers the server down (or stopped by maint). */
  up: boolean;
}

// srv_admin_state bits (management.txt, "show servers state").
const FMAINT = 0x01, IMAINT = 0x02, FDRAIN = 0x08, IDRAIN = 0x10, RMAINT = 0x20;

/**
 * `show servers state [backend]`, format 1: `be_id be_name srv_id srv_name srv_addr
 * srv_op_state srv_admin_state ... srv_port ...`. Column positions come from the header line.
 * CMAINT (0x04, "disabled" in the config) alone is not maint: HAProxy keeps that bit after
 * `set server ... state ready` while the server takes traffic.
 */
export function parseServersState(text: string): ServerState[] {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const header = lines.find((l) => l.startsWith("#"));
  if (!lines.length || lines[0] !== "1" || !header) throw new Error(`unexpected "show servers state" answer: ${text.slice(0, 200)}`);
  const cols = header.slice(1).trim().split(/\s+/);
  const col = (name: string) => {
    const i = cols.indexOf(name);
    if (i < 0) throw new Error(`"show servers state" has no ${name} column`);
    return i;
  };
  const [be, srv, addr, op, admin, port] = ["be_name", "srv_name", "srv_addr", "srv_op_state", "srv_admin_state", "srv_port"].map(col);
  return lines.filter((l) => !l.startsWith("#") && l !== "1").map((l) => {
    const f = l.split(/\s+/);
    const mask = Number(f[admin]);
    const state: AdminState = mask & (FMAINT | IMAINT | RMAINT) ? "maint" : mask & (FDRAIN | IDRAIN) ? "drain" : "ready";
    return { backend: f[be], name: f[srv], addr: f[addr], port: Number(f[port]), admin: state, up: Number(f[op]) !== 0 };
  });
}

export interface ProcInfo {
  masterPid: number;
  /** Reloads of the master since it started, failed ones included. */
  reloads: number;
  failedReloads: number;
  workers: number[];
  oldWorkers: number[];
}

/** The master CLI's `show proc`. */
export function parseShowProc(text: string): ProcInfo {
  let section = "";
  const info: ProcInfo = { masterPid: 0, reloads: 0, failedReloads: 0, workers: [], oldWorkers: [] };
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith("#")) {
      section = line.startsWith("#<PID>") ? "" : line.slice(1).trim();
      continue;
    }
    const f = line.split(/\s+/);
    const pid = Number(f[0]);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (f[1] === "master") {
      info.masterPid = pid;
      info.reloads = Number(f[2]) || 0;
      const failed = /\[failed:\s*(\d+)\]/.exec(line);
      info.failedReloads = failed ? Number(failed[1]) : 0;
    } else if (f[1] === "worker") {
      (section === "old workers" ? info.oldWorkers : info.workers).push(pid);
    }
  }
  if (!info.masterPid) throw new Error(`unexpected "show proc" answer: ${text.slice(0, 200)}`);
  return info;
}
