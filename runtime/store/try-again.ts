import type Redis from "ioredis";

/** TRYAGAIN retries on Redis Cluster: about 5 s in all (20, 40, ... 200 ms apart). */
const attempts = 32;

/**
 * Redis Cluster, a slot being migrated: a script or a MULTI whose keys are partly moved is
 * refused with TRYAGAIN (nothing of it ran) until the rest follow, usually within
 * milliseconds; ioredis passes that reply on. Retried here rather than reported as a failure.
 */
export async function retryTryAgain<T>(redis: Redis, action: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (err) {
      if (!redis.isCluster || !isTryAgain(err) || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, Math.min(20 * attempt, 200)));
    }
  }
}

function isTryAgain(err: unknown): boolean {
  const message = (err as Error)?.message ?? "";
  // A MULTI's EXEC reports it as EXECABORT naming the queued command's TRYAGAIN.
  // ioredis gives up after its own redirections: "Too many Cluster redirections. Last error: ... TRYAGAIN".
  return /^TRYAGAIN\b/.test(message) || (/^(EXECABORT|Too many Cluster redirections)\b/.test(message) && /TRYAGAIN/.test(message)) ||
    ((err as { previousErrors?: Error[] })?.previousErrors ?? []).some((e) => /^TRYAGAIN\b/.test(e.message));
}
