/**
 * Polling under the provider's own deadline. Each probe says whether it is done and, if
 * not, what is still pending, so a timeout can tell the user why. Built on drover's one
 * poll-with-deadline helper (runtime/protocol/poll.ts).
 */
import { WaitAbort, waitFor, WaitTimeoutError } from "../runtime/protocol/poll";
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
  let last: Probe<T> | undefined;
  try {
    const done = await waitFor(async () => {
      last = await probe();
      if (last.done) return { value: last.value };
      if (last.failure !== undefined) throw new WaitAbort(last.failure);
      if (last.failed) throw new WaitAbort(`${opts.what} failed: ${last.pending}`);
      return undefined;
    }, {
      what: opts.what, timeoutMs: opts.timeoutMs,
      // Capped low: a probe is one small GET, and each idle second here is a second added to `up`.
      intervalMs: 100, maxIntervalMs: 250,
    });
    return done.value;
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err;
    const pending = last ? last.pending : "no answer yet";
    const lastError = err.lastError === undefined ? "" : `; last error: ${(err.lastError as Error)?.message ?? String(err.lastError)}`;
    throw new Error(`timed out after ${Math.round(opts.timeoutMs / 1000)} s waiting for ${opts.what}; still pending: ${pending}${lastError}`);
  }
}
