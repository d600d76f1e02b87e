import Docker from "dockerode";
import * as fs from "fs";
import { cgroupDirsWithPrefix, removeCgroupTree } from "./cgroups";
import { dockerSocketPath, SHUTDOWN_TIMEOUT_S, stopDockerd } from "./dockerd";
import { findLeftovers, netnsInodes, ownedProcs, runProcs } from "./leftovers";
import { RunNames } from "./names";
import { isAlive, run, stopProcs } from "./proc";
import { HostState, LabState, readState, removeState } from "./state-file";
import { markersOf } from "./subnet";
import { stopWatchdog } from "./watchdog";
import { deleteUnderlay, runNamespaces } from "./underlay";
import { waitFor } from "../support/wait";

/**
 * Removes everything of a run, from its id and (if present) its state file, so it works
 * for a run of this process, of a crashed process, and for a partial `up`. Then asserts
 * that nothing is left and throws LabLeftoverError listing what is.
 */
export class LabLeftoverError extends Error {
  constructor(readonly runId: string, readonly leftovers: string[], readonly errors: string[]) {
    super(`lab run ${runId} left things behind after teardown:\n  ${[...leftovers, ...errors.map((e) => `error: ${e}`)].join("\n  ")}`);
    this.name = "LabLeftoverError";
  }
}

export interface TeardownResult {
  runId: string;
  ms: number;
  /** Milliseconds per phase: stop (polite stops), sweep (SIGKILL the rest), clean (cgroups, netns, files, check). */
  phases: { stop: number; sweep: number; clean: number };
}

/** Stops spawned processes and sshd, force-removes containers (no stop timeout to wait for), then stops dockerd; all by pid. */
async function stopHost(names: RunNames, h: HostState): Promise<void> {
  await stopProcs(h.spawned, { what: `processes spawned in ${h.name}`, graceMs: 3000 });
  if (h.sshd) await stopProcs([h.sshd], { what: `sshd on ${h.name}`, graceMs: 3000 });
  if (h.dockerd && isAlive(h.dockerd)) {
    try {
      const docker = new Docker({ socketPath: dockerSocketPath(names.host(h.index)), timeout: 5000 });
      const containers = await docker.listContainers({ all: true });
      await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
    } catch { /* dockerd not answering: the SIGTERM/SIGKILL below and the cgroup sweep handle it */ }
    await stopDockerd(names.host(h.index), h.dockerd, (SHUTDOWN_TIMEOUT_S + 8) * 1000);
  }
}

export async function teardownRun(runId: string, given?: LabState): Promise<TeardownResult> {
  const started = Date.now();
  const names = new RunNames(runId);
  const state = given ?? readState(runId);
  const errors: string[] = [];
  const inodes = netnsInodes(await runNamespaces(names));
  stopWatchdog(state?.watchdog); // so it cannot start a second teardown

  // 1. Polite stops, hosts in parallel.
  const polite = await Promise.allSettled((state?.hosts ?? []).map((h) => stopHost(names, h)));
  for (const p of polite) if (p.status === "rejected") errors.push(String((p.reason as Error)?.message ?? p.reason));

  const stopped = Date.now();

  // 2. Everything the lab started that is still alive (holders, shims, containers, stragglers): SIGKILL.
  // So does a `runc init` in the run's network namespaces: a container caught mid-start by
  // dockerd's exit is there but not yet in a cgroup of ours. Any other process there is not
  // the lab's to kill: it is reported as a leftover.
  try {
    await waitFor(async () => {
      const strayRuncs = runProcs(names, state, inodes).filter((p) => p.why === "in a network namespace of the run" && p.cmd.startsWith("runc init"));
      const owned = [...ownedProcs(names, state), ...strayRuncs];
      if (owned.length === 0) return true;
      await stopProcs(owned, { sig: "SIGKILL", graceMs: 2000, what: `processes of lab run ${runId}` });
      return false;
    }, { what: `every process of lab run ${runId} to exit`, timeoutMs: 15_000 });
  } catch (err) {
    errors.push((err as Error).message);
  }

  const swept = Date.now();

  // 3. Cgroups (docker's cgroup parent and the lab's tracking cgroup) in every hierarchy.
  for (const dir of cgroupDirsWithPrefix(names.prefix)) {
    await removeCgroupTree(dir).catch((err: Error) => errors.push(err.message));
  }

  // 4. Namespaces (their veths and bridge go with them) and the root leg.
  errors.push(...await deleteUnderlay(names));

  // 5. Mounts under the run dir in this namespace (the lab makes none here; be safe before rm -rf).
  for (const l of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").reverse()) {
    const mountPoint = l.split(" ")[4];
    if (mountPoint?.startsWith(names.runDir)) {
      const res = await run(["umount", "-l", mountPoint]);
      if (res.code !== 0) errors.push(`umount ${mountPoint}: ${res.stderr.trim()}`);
    }
  }
  if (!fs.readFileSync("/proc/self/mountinfo", "utf8").includes(names.runDir)) {
    fs.rmSync(names.runDir, { recursive: true, force: true });
  }
  // The subnet marker is released only after a clean check: while held, nobody else can take
  // the /24, so an address or route in it can only be ours; and a /24 with leftovers stays taken.
  const leftovers = await findLeftovers(names, state, inodes);
  if (leftovers.length || errors.length) throw new LabLeftoverError(runId, leftovers, errors);
  for (const m of markersOf(runId)) fs.rmSync(m, { force: true });
  removeState(runId);
  const end = Date.now();
  return { runId, ms: end - started, phases: { stop: stopped - started, sweep: swept - stopped, clean: end - swept } };
}
