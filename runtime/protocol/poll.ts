/**
 * Polling with a deadline: the one way drover waits for something — tests and the lab, the
 * quickstart, the agent, the provider and the benchmarks. Never a fixed sleep: `fn` is tried
 * at once, then again at growing intervals until it yields a value or the deadline passes.
 */
export interface WaitOptions {
  /** What is awaited, for the timeout message ("dockerd on h1 to answer"; a function: evaluated when the deadline passes, to say how far it got). */
  what: string | (() => string);
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** First pause between tries; doubles up to maxIntervalMs (defaults 10 ms and 250 ms). */
  intervalMs?: number;
  maxIntervalMs?: number;
}

export class WaitTimeoutError extends Error {
  constructor(message: string, readonly lastError?: unknown) {
    super(message);
    this.name = "WaitTimeoutError";
  }
}

/**
 * Resolves with the first result of `fn` that is neither `undefined`, `null` nor `false`.
 * A throw from `fn` counts as "not yet"; the last one is quoted if the deadline passes.
 * To stop early on a permanent failure, throw a `WaitAbort` from `fn`.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, opts: WaitOptions): Promise<Exclude<T, undefined | null | false>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let interval = opts.intervalMs ?? 10;
  const maxInterval = opts.maxIntervalMs ?? 250;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) return value as Exclude<T, undefined | null | false>;
      lastError = undefined;
    } catch (err) {
      if (err instanceof WaitAbort) throw err.cause ?? err;
      lastError = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const why = lastError === undefined ? "" : `; last error: ${(lastError as Error)?.message ?? String(lastError)}`;
      throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${typeof opts.what === "function" ? opts.what() : opts.what}${why}`, lastError);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, left)));
    interval = Math.min(interval * 2, maxInterval);
  }
}

/** Thrown from a waitFor callback to give up at once; waitFor rethrows `cause` (or itself). */
export class WaitAbort extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = "WaitAbort";
  }
}
