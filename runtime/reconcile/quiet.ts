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
  /**
   * Some host is reconnecting, or its Docker data root is nearly full (stats samples, which
   * mark nothing dirty, tell when it has room again): time alone will change it, so never skip.
   */
  timeSensitive: boolean;
}

export function quietStateOf(snapshot: EnvSnapshot, heartbeats: Record<string, number | undefined>, dockerDisk: DockerDiskFigures = {}): QuietState | undefined {
  if (snapshot.env.state !== "active") return undefined;
  const alive: Record<string, boolean> = {};
  for (const h of snapshot.hosts) alive[h.id] = (heartbeats[h.id] ?? 0) > 0;
  const timeSensitive = snapshot.hosts.some((h) => h.state === "reconnecting" || h.state === "removing" || dockerDiskShortage(dockerDisk[h.id], h.labels) !== undefined);
  return { rev: snapshot.rev, alive, timeSensitive };
}

/** True when nothing a pass reads has changed since `quiet` was taken. */
export function stillQuiet(quiet: QuietState, rev: number, heartbeats: Record<string, number | undefined>): boolean {
  if (quiet.timeSensitive || rev !== quiet.rev) return false;
  const ids = Object.keys(quiet.alive);
  if (ids.length !== Object.keys(heartbeats).length) return false;
  return ids.every((id) => quiet.alive[id] === ((heartbeats[id] ?? 0) > 0));
}
