import { performance } from "perf_hooks";

/** Milliseconds spent in each step of a reconcile pass (steps not reached are absent). */
export type PassTimings = Partial<Record<"read" | "plan" | "write" | "dns" | "desired" | "total", number>>;

/** Laps of one pass, for its log line: where a slow pass spends its time. */
export class PassTimer {
  private readonly start = performance.now();
  private last = this.start;
  private readonly laps: PassTimings = {};

  lap(step: Exclude<keyof PassTimings, "total">): void {
    const now = performance.now();
    this.laps[step] = Math.round(now - this.last);
    this.last = now;
  }

  done(): PassTimings {
    return { ...this.laps, total: Math.round(performance.now() - this.start) };
  }
}
