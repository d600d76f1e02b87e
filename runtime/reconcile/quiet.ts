import { dockerDiskShortage } from "../scheduler";
import type { EnvSnapshot } from "../store/store";
import type { DockerDiskFigures } from "./cluster-snapshot";

/**
 * What a pass that planned nothing saw. A later pass can only plan something if a record
 * changed (the revision moves), an agent reported (a stream signal marks the environment
 * dirty), a heartbeat appeared or vanished, or time passed for a host that is counting down
 * to `disconnected`. So while none of that happened, the periodic pass is skipped: one GET
 * and one PTTL pipeline instead of reading and planning the whole environment.
 */
export interface QuietState {
  rev: number;
  /** Host id → heartbeat present. */
  alive: Record<string, boolean>;
  /** Some host is reconnecting: time alone will change it, so never skip. */
  timeSensitive: boolean;
  /**
   * Hosts whose Docker data root was nearly full, with their labels (which set the reserve):
   * stats samples mark nothing dirty, so the check reads these hosts' latest figure and a
   * host that has room again ends the quiet (instances may be waiting for it).
   */
  diskShort?: Record<string, Record<string, string>>;
}

export function quietStateOf(snapshot: EnvSnapshot, heartbeats: Record<string, number | undefined>, dockerDisk: DockerDiskFigures = {}): QuietState | undefined {
  if (snapshot.env.state !== "active") return undefined;
  const alive: Record<string, boolean> = {};
  for (const h of snapshot.hosts) alive[h.id] = (heartbeats[h.id] ?? 0) > 0;
  const timeSensitive = snapshot.hosts.some((h) => h.state === "reconnecting" || h.state === "removing");
  const short = snapshot.hosts.filter((h) => dockerDiskShortage(dockerDisk[h.id], h.labels) !== undefined);
  return { rev: snapshot.rev, alive, timeSensitive, ...(short.length ? { diskShort: Object.fromEntries(short.map((h) => [h.id, h.labels])) } : {}) };
}

/**
 * True when nothing a pass reads has changed since `quiet` was taken. `dockerDisk`: the latest
 * figures of the hosts in `quiet.diskShort` (the only ones the check needs to read).
 */
export function stillQuiet(quiet: QuietState, rev: number, heartbeats: Record<string, number | undefined>, dockerDisk: DockerDiskFigures = {}): boolean {
  if (quiet.timeSensitive || rev !== quiet.rev) return false;
  for (const [hostId, labels] of Object.entries(quiet.diskShort ?? {})) {
    if (dockerDiskShortage(dockerDisk[hostId], labels) === undefined) return false;
  }
  const ids = Object.keys(quiet.alive);
  if (ids.length !== Object.keys(heartbeats).length) return false;
  return ids.every((id) => quiet.alive[id] === ((heartbeats[id] ?? 0) > 0));
}

/**
 * The quiet state after the leader's own incremental write (report-apply.ts), which bumps
 * the revision by exactly one and writes what a pass would have: still quiet at the new
 * revision when nothing else moved it since; otherwise unchanged, so the next check sees the
 * other write and runs a pass.
 */
export function afterOwnWrite(quiet: QuietState, newRev: number): QuietState {
  return newRev === quiet.rev + 1 ? { ...quiet, rev: newRev } : quiet;
}
