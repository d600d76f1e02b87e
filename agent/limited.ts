/**
 * Runs `fn` over `items` with at most `limit` at once, in order of start; resolves when all
 * are done. Errors are the callers' to catch inside `fn` (a rejection stops nothing else).
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
