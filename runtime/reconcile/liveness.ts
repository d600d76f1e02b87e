import type { HostRecord, HostState } from "../protocol/model";

export interface LivenessOptions {
  /** How long a host may miss heartbeats before it counts as disconnected (Rancher: 180 s; ours: 30 s). */
  graceMs: number;
}

/**
 * A host's state from its heartbeat: the key present → active (or inactive when an admin
 * deactivated it); absent → reconnecting, then disconnected once the grace period has passed.
 * Returns the record to write, or undefined when nothing changed. Pure.
 */
export function nextHostState(host: HostRecord, heartbeatTtlMs: number | undefined, now: number, opts: LivenessOptions): HostRecord | undefined {
  if (host.state === "removing" || host.state === "removed") return undefined;
  const alive = heartbeatTtlMs !== undefined && heartbeatTtlMs > 0;
  let state: HostState;
  let reconnectingSince = host.reconnectingSince;
  if (alive) {
    state = host.deactivated ? "inactive" : "active";
    reconnectingSince = undefined;
  } else {
    reconnectingSince ??= new Date(now).toISOString();
    state = now - Date.parse(reconnectingSince) >= opts.graceMs ? "disconnected" : "reconnecting";
  }
  if (state === host.state && reconnectingSince === host.reconnectingSince) return undefined;
  const next: HostRecord = { ...host, state };
  if (reconnectingSince === undefined) delete next.reconnectingSince;
  else next.reconnectingSince = reconnectingSince;
  return next;
}

/** Hosts whose instances stay where they are (a reconnecting host may come back). */
export function keepsInstances(host: HostRecord | undefined): boolean {
  return !!host && !host.deactivated && (host.state === "active" || host.state === "reconnecting");
}

/** Hosts that may take new instances. */
export function takesNewInstances(host: HostRecord): boolean {
  return host.state === "active" && !host.deactivated;
}
