/**
 * How often a host's agent beats, and how long each beat keeps it alive (the heartbeat key's
 * TTL): the server notices a lost host when the key expires.
 *
 * An environment's hosts beat together at most `beatsPerSecond` times a second: past that,
 * every host of the environment beats less often, the way Nomad stretches its heartbeat TTL
 * with the number of clients (max_heartbeats_per_second). Every beat is a Redis write on the
 * one Redis all environments share; at 5,000 hosts beating each second that was 5,000 writes a
 * second doing nothing else (bench scale). The price is slower loss detection in large
 * environments only: a small one keeps the registration's cadence (1 s, lost after 3.5 s).
 */
export interface HeartbeatCadence {
  intervalMs: number;
  ttlMs: number;
}

export interface HeartbeatBudget {
  /** The registration's cadence: a small environment's, and every host's until its first desired document. */
  base: HeartbeatCadence;
  /** Beats per second an environment's hosts send together at most. */
  beatsPerSecond: number;
}

/** Beats per second per environment by default: 1,000 hosts at the base cadence of one beat a second. */
export const DEFAULT_BEATS_PER_SECOND = 1_000;

/** The interval stretches at most this many times (10 s, lost after 35 s, at the default base). */
export const MAX_STRETCH = 10;

/** Longest TTL an agent accepts from a desired document: 10 minutes. */
const MAX_TTL_MS = 600_000;

/**
 * The cadence of an environment of `hosts` hosts: the base one stretched by a whole factor so
 * that their beats stay within the budget; undefined when that is the base cadence itself
 * (desired documents then carry none). Whole factors, so that the documents change only when
 * the environment crosses a multiple of the budget. Pure.
 */
export function environmentCadence(hosts: number, budget: HeartbeatBudget): HeartbeatCadence | undefined {
  const beatsAtBase = (hosts * 1000) / budget.base.intervalMs;
  const stretch = Math.min(MAX_STRETCH, Math.ceil(beatsAtBase / budget.beatsPerSecond));
  if (!(stretch > 1)) return undefined;
  return { intervalMs: budget.base.intervalMs * stretch, ttlMs: budget.base.ttlMs * stretch };
}

/** Whether two cadences are the same (an agent follows a document's only when it differs). */
export function sameCadence(a: HeartbeatCadence, b: HeartbeatCadence): boolean {
  return a.intervalMs === b.intervalMs && a.ttlMs === b.ttlMs;
}

/**
 * A cadence as read from a desired document (`field` names it in the error): whole
 * milliseconds, a beat well inside its own TTL, and a TTL of at most 10 minutes.
 */
export function checkCadence(value: unknown, field: string): HeartbeatCadence {
  const v = value as Partial<HeartbeatCadence> | null;
  const ok = typeof v === "object" && v !== null && Number.isInteger(v.intervalMs) && Number.isInteger(v.ttlMs)
    && v.intervalMs! > 0 && v.ttlMs! > v.intervalMs! && v.ttlMs! <= MAX_TTL_MS;
  if (!ok) {
    throw new Error(`${field}: expected { intervalMs, ttlMs } in whole milliseconds with 0 < intervalMs < ttlMs <= ${MAX_TTL_MS}, got ${JSON.stringify(value)}`);
  }
  return { intervalMs: v!.intervalMs!, ttlMs: v!.ttlMs! };
}
