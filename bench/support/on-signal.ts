/**
 * A lab benchmark interrupted with Ctrl-C or SIGTERM still tears down what it started (the
 * Swarm it joined, drover's server and Redis, which would otherwise outlive it as orphans,
 * and the lab), then exits 130. The same cleanup runs at the normal end; it runs once.
 */
export function cleanupOnSignal(cleanup: () => Promise<void>): { run(): Promise<void> } {
  let done: Promise<void> | undefined;
  const run = () => (done ??= cleanup());
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`${signal}: cleaning up before exiting`);
    run().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return {
    run: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      return run();
    },
  };
}
