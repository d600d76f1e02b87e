/**
 * Polling under the provider's own deadline. Each probe says whether it is done and, if
 * not, what is still pending, so a timeout can tell the user why.
 */
export interface Probe<T> {
  done: boolean;
  pending: string;
  value?: T;
  /** A state that will not resolve by waiting (e.g. the record vanished): stop now. */
  failed?: boolean;
  /** Like `failed`, with the whole sentence to fail with (not prefixed with what was awaited). */
  failure?: string;
}

export async function pollUntil<T>(probe: () => Promise<Probe<T>>, opts: { what: string; timeoutMs: number }): Promise<T | undefined> {
  const deadline = Date.now() + opts.timeoutMs;
  let interval = 100;
  let last: Probe<T> | undefined;
  let lastError: string | undefined;
  for (;;) {
    try {
      last = await probe();
      lastError = undefined;
      if (last.done) return last.value;
      if (last.failure !== undefined) throw new Error(last.failure);
      if (last.failed) throw new Error(`${opts.what} failed: ${last.pending}`);
    } catch (err: any) {
      if (last?.failed || last?.failure !== undefined) throw err;
      lastError = err?.message ?? String(err);
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const pending = last ? last.pending : "no answer yet";
      throw new Error(`timed out after ${Math.round(opts.timeoutMs / 1000)} s waiting for ${opts.what}; still pending: ${pending}` +
        (lastError ? `; last error: ${lastError}` : ""));
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, left)));
    // Capped low: a probe is one small GET, and each idle second here is a second added to `up`.
    interval = Math.min(interval * 2, 250);
  }
}
