/**
 * One checker's verdict on one instance, as a pure state machine (Rancher's thresholds):
 * `healthyThreshold` consecutive passes make it `passing`, `unhealthyThreshold` consecutive
 * failures make it `failing`, and anything in between keeps the previous state (hysteresis),
 * so a single lost check never flaps an instance. A new container start begins at `pending`.
 */
import type { HealthCheckSpec, HealthVerdict } from "../../runtime/protocol/model";

export type VerdictState = HealthVerdict["state"];
export type Thresholds = Pick<HealthCheckSpec, "healthyThreshold" | "unhealthyThreshold">;

/** The verdict plus the streaks that lead to the next one. Times are epoch milliseconds. */
export interface Tally {
  state: VerdictState;
  /** Consecutive passes up to now (0 after a failure). */
  passes: number;
  /** Consecutive failures up to now (0 after a pass). */
  failures: number;
  /** When `state` last changed. */
  since: number;
  /** The last failed check's reason; cleared when the verdict becomes `passing`. */
  reason?: string;
}

/** The tally of a target nobody has checked yet (a new target, or a container that restarted). */
export function freshTally(now: number): Tally {
  return { state: "pending", passes: 0, failures: 0, since: now };
}

/**
 * The tally after one check. `failReason` undefined means the check passed. Returns a new
 * object; compare `state` with the old one to know whether the verdict changed.
 */
export function afterCheck(tally: Tally, failReason: string | undefined, thresholds: Thresholds, now: number): Tally {
  if (failReason === undefined) {
    const passes = tally.passes + 1;
    if (tally.state !== "passing" && passes >= thresholds.healthyThreshold) return { state: "passing", passes, failures: 0, since: now };
    return { state: tally.state, passes, failures: 0, since: tally.since, reason: tally.reason };
  }
  const failures = tally.failures + 1;
  const state: VerdictState = tally.state !== "failing" && failures >= thresholds.unhealthyThreshold ? "failing" : tally.state;
  return { state, passes: 0, failures, since: state === tally.state ? tally.since : now, reason: failReason };
}

/** The verdict as the agent reports it (HostObservedState.health). */
export function toVerdict(tally: Tally, startedAt: string): HealthVerdict {
  const verdict: HealthVerdict = { state: tally.state, startedAt, since: new Date(tally.since).toISOString() };
  if (tally.reason !== undefined) verdict.reason = tally.reason;
  return verdict;
}
