/**
 * How often a reconcile leader drops what it keeps of an environment and reads it whole: the
 * safety net for what its cache cannot see (a hand edit in Redis, a lost write). The base
 * period (ManagerOptions.fullPassMs, 30 s) stretches with the environment's size, by one
 * period per `recordsPerPeriod` records it held at the last read (hosts and instances), at
 * most MAX_FRESH_READ_STRETCH times. Why: a whole read costs in proportion to the records; at
 * 25,000 instances it took 1.9–6.5 s of a loaded leader's time (bench scale), so every 30 s
 * it was up to a fifth of a core per environment doing nothing but checking. The price, as
 * with heartbeats (protocol/heartbeat-cadence.ts), is paid in large environments only: a hand
 * edit there is taken in within 90 s at 25,000 instances instead of 30 s. Pure.
 */

/** Records per base period by default: up to 10,000 hosts and instances, every 30 s. */
export const RECORDS_PER_PERIOD = 10_000;

/** The period stretches at most this many times (5 minutes at the default base). */
export const MAX_FRESH_READ_STRETCH = 10;

export function freshReadPeriodMs(baseMs: number, records: number, recordsPerPeriod = RECORDS_PER_PERIOD): number {
  const stretch = Math.min(MAX_FRESH_READ_STRETCH, Math.max(1, Math.ceil(records / recordsPerPeriod)));
  return baseMs * stretch;
}
