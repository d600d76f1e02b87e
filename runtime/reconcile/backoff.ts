/**
 * Growing back-off for replacements of sick instances (pure). The first replacement of a
 * slot starts at once; each further one in a row waits twice as long as the last, from 5 s
 * up to 5 minutes, so an image whose check never passes costs a few creates a minute at
 * first and about one every 5 minutes after, never a storm. A healthy instance in the slot
 * ends the run (plan-health.ts clears `attempt`).
 */
import type { InstanceRecord } from "../protocol/model";

export const BACKOFF_FIRST_MS = 5_000;
export const BACKOFF_MAX_MS = 300_000;

/** What a replacement of a removed instance inherits: its slot, and its place in the run. */
export interface Replacement {
  index: number;
  attempt: number;
  backoffUntil?: string;
}

/** The wait before the `attempt`-th replacement in a row (1 = the first: no wait). */
export function backoffMs(attempt: number): number {
  if (attempt <= 1) return 0;
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (attempt - 2));
}

export function replacementFor(sick: InstanceRecord, now: number): Replacement {
  const attempt = (sick.attempt ?? 0) + 1;
  const wait = backoffMs(attempt);
  return { index: sick.index, attempt, ...(wait > 0 ? { backoffUntil: new Date(now + wait).toISOString() } : {}) };
}

/** Whether an instance is still held back at `now` (its agent does not get it yet). */
export function heldBack(i: InstanceRecord, now: number): boolean {
  return i.backoffUntil !== undefined && now < Date.parse(i.backoffUntil);
}
