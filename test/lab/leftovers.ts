import * as fs from "fs";
import { cgroupDirsWithPrefix } from "./cgroups";
import { RunNames } from "./names";
import { cgroupsOf, cmdline, isAlive, listProcs, nsInode, ProcRef, run } from "./proc";
import type { LabState } from "./state-file";

/**
 * Finds what a run left behind, independently of how teardown went: processes, namespaces,
 * links, addresses, routes, mounts, cgroups, files. Used by teardown's final assertion.
 */

/** Refs the state file names (holder, dockerd, sshd, spawned) that are still alive. */
export function trackedProcs(state: LabState | undefined): ProcRef[] {
  const refs: ProcRef[] = [];
  for (const h of state?.hosts ?? []) {
    for (const r of [h.holder, h.dockerd, h.sshd, ...h.spawned]) if (r && r.pid !== process.pid && isAlive(r)) refs.push(r);
  }
  return refs;
}

/**
 * Processes the lab started for this run: tracked ones and everything in the run's cgroups
 * (the tracking cgroups catch every descendant; docker's cgroup parent catches containers).
 * These are the only ones teardown kills.
 */
export function ownedProcs(names: RunNames, state: LabState | undefined): ProcRef[] {
  const marker = `:/${names.prefix}`;
  const found = new Map<number, ProcRef>();
  for (const r of trackedProcs(state)) found.set(r.pid, r);
  for (const p of listProcs()) if (p.pid !== process.pid && cgroupsOf(p.pid).includes(marker)) found.set(p.pid, p);
  return [...found.values()];
}

/** Owned processes plus any process whose command line names the run dir or that lives in the run's network namespaces. */
export function runProcs(names: RunNames, state: LabState | undefined, netnsInodes: number[]): Array<ProcRef & { why: string; cmd: string }> {
  const owned = new Set(ownedProcs(names, state).map((r) => r.pid));
  const out: Array<ProcRef & { why: string; cmd: string }> = [];
  for (const p of listProcs()) {
    if (p.pid === process.pid) continue;
    const cmd = cmdline(p.pid);
    const why = owned.has(p.pid) ? "started by the lab"
      : cmd.includes(names.runDir) ? "command line names the run dir"
      : netnsInodes.includes(nsInode(p.pid, "net") ?? -1) ? "in a network namespace of the run"
      : "";
    if (why) out.push({ ...p, why, cmd });
  }
  return out;
}

export function netnsInodes(namespaces: string[]): number[] {
  const out: number[] = [];
  for (const ns of namespaces) {
    try {
      out.push(fs.statSync(`/run/netns/${ns}`).ino);
    } catch { /* gone */ }
  }
  return out;
}

/**
 * The run's namespace inodes (taken before they were deleted) that are not now another
 * namespace's: the kernel reuses a freed namespace's inode number, so once ours is gone a
 * process of another run can sit in a namespace with the same number. (While a process holds
 * our namespace it is not freed, so its number cannot have been reused.)
 */
function stillOurs(names: RunNames, inodes: number[]): number[] {
  let others: number[] = [];
  try {
    others = netnsInodes(fs.readdirSync("/run/netns").filter((n) => !n.startsWith(names.prefix)));
  } catch { /* no /run/netns */ }
  return inodes.filter((i) => !others.includes(i));
}

export async function findLeftovers(names: RunNames, state: LabState | undefined, inodes: number[]): Promise<string[]> {
  const left: string[] = [];
  for (const p of runProcs(names, state, stillOurs(names, inodes))) left.push(`process ${p.pid} (${p.why}): ${p.cmd}`);

  const nsList = (await run(["ip", "netns", "list"])).stdout.split("\n").map((l) => l.split(" ")[0]);
  for (const ns of nsList) if (ns.startsWith(names.prefix)) left.push(`network namespace ${ns}`);

  const links = (await run(["ip", "-o", "link", "show"])).stdout.split("\n");
  for (const l of links) if (l.includes(names.prefix)) left.push(`link: ${l.trim()}`);

  // Only valid while the run still holds its subnet marker (teardown releases it afterwards).
  const base = state?.subnetBase;
  if (base) {
    const needle = `${base}.`;
    for (const l of (await run(["ip", "-o", "-4", "addr", "show"])).stdout.split("\n")) {
      if (l.includes(needle)) left.push(`address: ${l.trim()}`);
    }
    for (const l of (await run(["ip", "-4", "route", "show", "table", "all"])).stdout.split("\n")) {
      if (l.includes(needle)) left.push(`route: ${l.trim()}`);
    }
  }
  for (const l of (await run(["ip", "-4", "route", "show", "table", "all"])).stdout.split("\n")) {
    if (l.includes(names.prefix) && !left.includes(`route: ${l.trim()}`)) left.push(`route: ${l.trim()}`);
  }

  for (const l of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    if (l.includes(names.runDir) || l.includes(`/run/netns/${names.prefix}`)) left.push(`mount: ${l.trim()}`);
  }

  for (const d of cgroupDirsWithPrefix(names.prefix)) left.push(`cgroup ${d}`);
  if (fs.existsSync(names.runDir)) left.push(`run dir ${names.runDir}`);
  return left;
}
