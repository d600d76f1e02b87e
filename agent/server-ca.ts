import { DroverError } from "../runtime/protocol/errors";
import { fetchPinnedCa } from "../runtime/protocol/pinned-https";
import { backoffMs, delay } from "./backoff";
import { errorMessage, Logger } from "./log";

/**
 * The server's CA, checked against the pinned fingerprint (runtime/protocol/pinned-https.ts).
 * Like registration, it waits out a server that cannot be reached yet (hosts often boot
 * first); a CA with another fingerprint ends the agent at once, before any token is sent.
 */
export async function fetchServerCa(url: string, pin: string, log: Logger, signal: AbortSignal): Promise<string | undefined> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      return await fetchPinnedCa(url, pin, { signal, timeoutMs: 15_000 });
    } catch (err) {
      if (signal.aborted) return undefined;
      if (err instanceof DroverError && !err.retryable) throw err;
      const wait = backoffMs(attempt, 1000, 30_000);
      log.warn("server unreachable for its CA, retrying", { url, reason: errorMessage(err), retryInMs: wait, attempt: attempt + 1 });
      await delay(wait, signal);
    }
  }
  return undefined;
}
