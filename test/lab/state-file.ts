import * as fs from "fs";
import * as path from "path";
import { isRunId, labRoot, RunNames } from "./names";
import type { ProcRef } from "./proc";

/**
 * What a run wrote down about itself, in $DROVER_STATE/lab/<runid>.json. It is written
 * before anything is created and rewritten whenever a process is started, so a fresh
 * process (`drover lab down`, `drover lab exec`) can find and remove everything.
 */
export interface SshState {
  address: string;
  port: number;
  username: string;
  privateKeyFile: string;
  hostPublicKeyFile: string;
}

export interface HostState {
  index: number;
  name: string;
  underlayIp: string;
  /** Keeps the host's mount and UTS namespaces alive; `nsenter -t <pid>` enters the host. */
  holder?: ProcRef;
  dockerd?: ProcRef;
  sshd?: ProcRef;
  ssh?: SshState;
  /** Processes started through spawn() that have not exited yet. */
  spawned: ProcRef[];
}

export interface LabState {
  version: 1;
  runId: string;
  name?: string;
  createdAt: string;
  /** The process that brought the run up (informational: the daemons do not depend on it). */
  ownerPid: number;
  subnet?: string;
  subnetBase?: string;
  gatewayIp?: string;
  sshd: boolean;
  /** Watcher that tears the run down if the owner dies without doing it (see watchdog.ts). */
  watchdog?: ProcRef;
  /** Set once `up` finished; a run without it is partial. */
  ready?: boolean;
  hosts: HostState[];
}

export function writeState(state: LabState): void {
  const file = new RunNames(state.runId).stateFile;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n");
  fs.renameSync(tmp, file);
}

export function readState(runId: string): LabState | undefined {
  try {
    return JSON.parse(fs.readFileSync(new RunNames(runId).stateFile, "utf8")) as LabState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

export function removeState(runId: string): void {
  fs.rmSync(new RunNames(runId).stateFile, { force: true });
}

/** Run ids that have a state file or a run dir, newest state first. */
export function listRunIds(): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(labRoot());
  } catch {
    return [];
  }
  const ids = new Set<string>();
  for (const e of entries) {
    const id = e.endsWith(".json") ? e.slice(0, -5) : e;
    if (isRunId(id)) ids.add(id);
  }
  const created = (id: string): number => {
    try {
      return Date.parse(readState(id)?.createdAt ?? "") || fs.statSync(path.join(labRoot(), id)).mtimeMs;
    } catch {
      return 0;
    }
  };
  return [...ids].sort((a, b) => created(b) - created(a));
}
