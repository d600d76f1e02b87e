/** Polling with a deadline for the quickstart (no fixed sleeps): backs off from 20 ms to 250 ms. */
export async function until<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs: number, opts: { stopOnError?: boolean } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let pause = 20; ; pause = Math.min(pause * 2, 250)) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      if (opts.stopOnError) throw err;
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, pause));
  }
}
