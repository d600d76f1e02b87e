import { WaitAbort, waitFor } from "../protocol/poll";

/** Polling with a deadline for the quickstart (no fixed sleeps), on the shared waitFor: backs off from 20 ms to 250 ms. */
export async function until<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs: number, opts: { stopOnError?: boolean } = {}): Promise<T> {
  const attempt = opts.stopOnError
    ? async () => { try { return await fn(); } catch (err) { throw new WaitAbort((err as Error).message, err); } }
    : fn;
  return (await waitFor(attempt, { what, timeoutMs, intervalMs: 20, maxIntervalMs: 250 })) as T;
}
