/** The one JSON object a benchmark prints as its last line, for scripts to read. */
export interface BenchResult {
  name: string;
  unit: string;
  value: number;
  /** Same quantity measured on the baseline in the same run, where there is one. */
  baseline?: number;
  /** value / baseline (or the ratio the benchmark defines), where there is a baseline. */
  ratio?: number;
  /** The goal, in words a reader can check against value or ratio. */
  goal: string;
  ok: boolean;
  /** Other figures worth reading (p50/p99, RSS, ...). */
  extra?: Record<string, number | string>;
}

export interface Benchmark {
  name: string;
  summary: string;
  run(): Promise<BenchResult>;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
