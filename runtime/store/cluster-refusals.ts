/** Retries of a command Redis Cluster refused without running it: about 5 s in all (20, 40, ... 200 ms apart). */
const attempts = 32;

/**
 * Replies by which a Redis Cluster node refuses a command before running any of it: the slot
 * is served elsewhere (MOVED, ASK), is half migrated under a multi-key script or MULTI
 * (TRYAGAIN), or the cluster is not serving it yet (CLUSTERDOWN). ioredis follows them for a
 * command sent on its own, but not inside a pipeline where another command went through (it
 * cannot send that one again), and an auto-pipeline mixes every caller's commands to a node:
 * there a read of a slot whose move the client has not seen yet comes back MOVED. A MULTI's
 * EXEC reports them as EXECABORT naming the queued command's reply; ioredis gives up after
 * its own redirections with "Too many Cluster redirections. Last error: ...".
 */
const refusedUnrun = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/;

export function isRefusedUnrun(err: unknown): boolean {
  const message = (err as Error)?.message ?? "";
  if (refusedUnrun.test(message)) return true;
  if (/^(EXECABORT|Too many Cluster redirections)\b/.test(message) && /\b(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b/.test(message)) return true;
  return ((err as { previousErrors?: Error[] })?.previousErrors ?? []).some((e) => refusedUnrun.test(e.message));
}

/**
 * Runs one Redis interaction (one command, one MULTI, one script) again while the cluster
 * refuses it unrun: nothing of it ran, so sending it again cannot apply it twice. Sent again
 * it usually goes alone, and ioredis then follows the redirection and refreshes its slots.
 */
export async function retryRefused<T>(action: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (err) {
      if (!isRefusedUnrun(err) || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, Math.min(20 * attempt, 200)));
    }
  }
}
