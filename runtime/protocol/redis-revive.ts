import type Redis from "ioredis";

/**
 * Reconnects an ioredis client that ended on its own (status "end" while nobody closed it).
 *
 * Why: with Sentinel and `failoverDetector`, a `+switch-master` announced while the client is
 * still asking the sentinels where the primary is (reconnecting after the primary died) makes
 * the detector call the connector's `disconnect()`; the pending connect then rejects with
 * "Connection is closed." and ioredis 5 moves the client to "end" for good: every command after
 * it fails at once with "Connection is closed." and nothing ever reconnects. The window is the
 * sentinel round trip, so it opened mostly over TLS on a loaded machine (the TLS failover test:
 * 0 of 20 writes acknowledged in 60 s, thousands of fast refusals, in 3 of 4 runs with another
 * test alongside). A client that ends while `closing()` is false is connected again, after a
 * short backoff so a target that keeps refusing does not spin.
 */
export function reviveWhenEnded(
  redis: Redis,
  opts: { name: string; closing: () => boolean; log: (message: string, fields: Record<string, unknown>) => void },
): void {
  let lastError = "";
  let attempts = 0;
  let timer: NodeJS.Timeout | undefined;
  // Listening to "error" silences ioredis's own "Unhandled error event" lines, so each distinct
  // error is logged here instead (once until it changes: a dead primary refuses every retry).
  redis.on("error", (err: Error) => {
    if (err.message !== lastError) opts.log("redis connection error", { connection: opts.name, error: err.message });
    lastError = err.message;
  });
  redis.on("ready", () => { attempts = 0; lastError = ""; });
  redis.on("end", () => {
    if (opts.closing() || timer) return;
    attempts++;
    const delayMs = Math.min(50 * 2 ** (attempts - 1), 1000);
    opts.log("redis connection ended without being closed: connecting again", { connection: opts.name, lastError, attempt: attempts, delayMs });
    timer = setTimeout(() => {
      timer = undefined;
      if (opts.closing() || redis.status !== "end") return;
      // A rejected connect ends the client again, which lands back here.
      redis.connect().catch(() => undefined);
    }, delayMs);
    timer.unref();
  });
}
