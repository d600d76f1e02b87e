/**
 * What the lb-churn benchmark makes of its records (pure): the load client's requests, the
 * churn's phases (one action each, from the moment it was asked for until drover had
 * settled again) and the membership changes HAProxy made. Each failed request is put down
 * to an action (phaseOf), so failures from killed containers can be told apart from
 * failures during planned changes.
 */
import type { LoadRecord } from "./load-client";

export type PhaseKind = "scale-up" | "scale-down" | "kill" | "move" | "upgrade";

export interface Phase {
  kind: PhaseKind;
  /** What was done, for the timeline ("scale 2 → 12", "deactivate h3", ...). */
  label: string;
  /** Epoch ms: the action was asked for. */
  start: number;
  /** Epoch ms: drover had settled (or the phase was given up). */
  end: number;
  /** Membership changes HAProxy made during the phase. */
  changes: number;
  /** kill: the server (`ip:port`) whose container was removed. */
  victim?: string;
  /**
   * The servers the action may take out of rotation (the killed one, the moved host's);
   * undefined when any may go (scale down, upgrade). A leave of any other server is unplanned.
   */
  mayLeave?: string[];
  /** upgrade: drover rolled it back by itself, for this reason. */
  rolledBack?: string;
  /** Set when the phase did not settle in time. */
  error?: string;
}

export interface FailureCounts {
  total: number;
  /** Per phase kind; `none` for requests sent while no action was under way. */
  byPhase: Record<PhaseKind | "none", number>;
  /** Per failure signature ("HTTP 503", "ECONNRESET", "timeout"). */
  bySignature: Record<string, number>;
}

export function signature(r: LoadRecord): string {
  if (r.status && r.status !== 200) return `HTTP ${r.status}`;
  if (r.error) return r.error;
  if (r.status === 200) return "unexpected body";
  return "no response";
}

/** The phase under way at `t` (phases never overlap: they run one after another). */
export function phaseAt(phases: Phase[], t: number): Phase | undefined {
  let lo = 0, hi = phases.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const p = phases[mid];
    if (t < p.start) hi = mid - 1;
    else if (t > p.end) lo = mid + 1;
    else return p;
  }
  return undefined;
}

/**
 * The action a failed request is put down to. A request cut short (reset, 502, ...) failed
 * because of something that happened while it was in flight: the latest action that began
 * before it ended (a container killed 50 ms after the request went to it). A timeout, on the
 * other hand, was decided when the request was routed: the action under way when it was sent.
 */
export function phaseOf(sorted: Phase[], r: LoadRecord): Phase | undefined {
  if (r.error === "timeout") return phaseAt(sorted, r.t);
  const end = r.t + r.ms;
  for (let i = sorted.length - 1; i >= 0; i--) {
    const p = sorted[i];
    if (p.start > end) continue;
    return p.end >= r.t ? p : undefined;
  }
  return undefined;
}

export function countFailures(records: LoadRecord[], phases: Phase[]): FailureCounts {
  const sorted = [...phases].sort((a, b) => a.start - b.start);
  const out: FailureCounts = { total: 0, byPhase: { "scale-up": 0, "scale-down": 0, kill: 0, move: 0, upgrade: 0, none: 0 }, bySignature: {} };
  for (const r of records) {
    if (r.ok) continue;
    out.total++;
    out.byPhase[phaseOf(sorted, r)?.kind ?? "none"]++;
    const sig = signature(r);
    out.bySignature[sig] = (out.bySignature[sig] ?? 0) + 1;
  }
  return out;
}

export function latencyPercentiles(records: LoadRecord[]): { p50: number; p99: number; max: number; over1s: number } {
  const ms = records.filter((r) => r.ok).map((r) => r.ms).sort((a, b) => a - b);
  const at = (p: number) => (ms.length ? ms[Math.min(ms.length - 1, Math.max(0, Math.ceil((p / 100) * ms.length) - 1))] : NaN);
  return { p50: at(50), p99: at(99), max: ms.length ? ms[ms.length - 1] : NaN, over1s: ms.filter((x) => x > 1000).length };
}

/**
 * value / baseline, where both are failed-request counts of equal loads over the same time.
 * A baseline of 0 failures would leave it undefined: then the baseline counts as 1, so the
 * ratio is 0 when drover failed nothing too, and drover's count otherwise.
 */
export function failureRatio(value: number, baseline: number): number {
  return value / Math.max(1, baseline);
}

/** Counts of each phase kind, and of their membership changes. */
export function phaseTotals(phases: Phase[]): Record<PhaseKind, { phases: number; changes: number; ms: number }> {
  const out = {} as Record<PhaseKind, { phases: number; changes: number; ms: number }>;
  for (const k of ["scale-up", "scale-down", "kill", "move", "upgrade"] as PhaseKind[]) out[k] = { phases: 0, changes: 0, ms: 0 };
  for (const p of phases) {
    out[p.kind].phases++;
    out[p.kind].changes += p.changes;
    out[p.kind].ms += p.end - p.start;
  }
  return out;
}

/** Failed requests grouped in bursts (gaps under `gapMs`), each with its phase: the evidence a reader follows up. */
export function failureBursts(records: LoadRecord[], phases: Phase[], gapMs = 2000): { from: number; to: number; count: number; phase?: string; signatures: string }[] {
  const sorted = [...phases].sort((a, b) => a.start - b.start);
  const failed = records.filter((r) => !r.ok).sort((a, b) => a.t - b.t);
  const bursts: { from: number; to: number; count: number; phase?: string; sigs: Map<string, number> }[] = [];
  for (const r of failed) {
    const last = bursts[bursts.length - 1];
    if (last && r.t - last.to <= gapMs) {
      last.to = r.t;
      last.count++;
    } else {
      const p = phaseOf(sorted, r);
      bursts.push({ from: r.t, to: r.t, count: 1, phase: p ? `${p.label} (+${r.t - p.start} ms)` : undefined, sigs: new Map() });
    }
    const b = bursts[bursts.length - 1];
    const sig = signature(r);
    b.sigs.set(sig, (b.sigs.get(sig) ?? 0) + 1);
  }
  return bursts.map(({ sigs, ...b }) => ({ ...b, signatures: [...sigs].map(([s, n]) => `${s}×${n}`).join(", ") }));
}

/**
 * For each kill: how long HAProxy kept the killed instance in its serving set (until its
 * first leave after the kill), or undefined when it never left (its container came back
 * before drover took it out).
 */
export function killExposure(phases: Phase[], events: { t: number; server: string; kind: "enter" | "leave" }[]): (number | undefined)[] {
  return phases.filter((p) => p.kind === "kill" && p.victim).map((p) => {
    const left = events.find((e) => e.kind === "leave" && e.server === p.victim && e.t >= p.start && e.t <= p.end + 1);
    return left ? left.t - p.start : undefined;
  });
}

export interface UnplannedLeave {
  server: string;
  t: number;
  /** The action under way, with the time into it; "between actions" when none was. */
  during: string;
  /** How long until the server was back in rotation; undefined when it never came back. */
  outMs?: number;
}

/** Servers that left the serving set though the action under way did not mean to take them out. */
export function unplannedLeaves(phases: Phase[], events: { t: number; server: string; kind: "enter" | "leave" }[]): UnplannedLeave[] {
  const sorted = [...phases].sort((a, b) => a.start - b.start);
  const out: UnplannedLeave[] = [];
  events.forEach((e, i) => {
    if (e.kind !== "leave") return;
    const p = phaseAt(sorted, e.t);
    if (p && (p.mayLeave === undefined || p.mayLeave.includes(e.server))) return;
    const back = events.slice(i + 1).find((x) => x.server === e.server && x.kind === "enter");
    out.push({ server: e.server, t: e.t, during: p ? `${p.label} (+${e.t - p.start} ms)` : "between actions", ...(back ? { outMs: back.t - e.t } : {}) });
  });
  return out;
}

/**
 * Failed requests of `records` with a failure of `baseline` sent within `windowMs`: failures
 * the static side shared (the machine or the network stalled), not the churn's own.
 */
export function sharedWithBaseline(records: LoadRecord[], baseline: LoadRecord[], windowMs = 2000): number {
  const times = baseline.filter((r) => !r.ok).map((r) => r.t).sort((a, b) => a - b);
  const near = (t: number) => {
    let lo = 0, hi = times.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (times[mid] < t - windowMs) lo = mid + 1; else hi = mid; }
    return lo < times.length && times[lo] <= t + windowMs;
  };
  return records.filter((r) => !r.ok && near(r.t)).length;
}

/** Requests sent within any of `windows` ([from, to] epoch ms) that took longer than `overMs` or failed. */
export function slowIn(records: LoadRecord[], windows: [number, number][], overMs = 1000): { sent: number; slow: number } {
  let sent = 0, slow = 0;
  for (const r of records) {
    if (!windows.some(([from, to]) => r.t >= from && r.t <= to)) continue;
    sent++;
    if (!r.ok || r.ms > overMs) slow++;
  }
  return { sent, slow };
}
