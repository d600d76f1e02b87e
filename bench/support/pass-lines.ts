/**
 * The server's "reconciled" log lines (env-reconciler.ts logPlan): pino JSON, one object per
 * line (`{"level":"info","time":"…","msg":"reconciled","puts":…,"removes":…,"desiredDocs":…,
 * "ms":{…}}`). The agents log "reconciled" too, with other fields: a line counts only when it
 * has the pass's counts. Pure: the caller reads the file.
 */

export interface PassLine {
  /** ms after `fromEpochMs`. */
  atMs: number;
  puts: number;
  removes: number;
  desiredDocs: number;
  /** The pass's step timings (read, plan, write, dns, desired, total), when logged. */
  ms?: Record<string, number>;
}

/** Passes logged from `fromEpochMs` to `toEpochMs` (+50 ms: the log line follows the write). */
export function passesSince(logText: string, fromEpochMs: number, toEpochMs: number): PassLine[] {
  const out: PassLine[] = [];
  for (const line of logText.split("\n")) {
    if (!line.startsWith("{") || !line.includes('"reconciled"')) continue;
    let l: { time?: string; msg?: string; puts?: unknown; removes?: unknown; desiredDocs?: unknown; ms?: unknown };
    try { l = JSON.parse(line); } catch { continue; }
    if (l.msg !== "reconciled" || typeof l.puts !== "number" || typeof l.removes !== "number" || typeof l.desiredDocs !== "number") continue;
    const at = Date.parse(l.time ?? "");
    if (!Number.isFinite(at) || at < fromEpochMs || at > toEpochMs + 50) continue;
    out.push({
      atMs: at - fromEpochMs, puts: l.puts, removes: l.removes, desiredDocs: l.desiredDocs,
      ...(l.ms && typeof l.ms === "object" ? { ms: l.ms as Record<string, number> } : {}),
    });
  }
  return out;
}
