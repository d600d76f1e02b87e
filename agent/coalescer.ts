/**
 * Runs one job at a time and folds triggers together: a trigger while the job runs asks for
 * exactly one more run after it, however many triggers arrive. Reconciles are level-triggered,
 * so one more run sees everything the skipped triggers would have.
 */
export class Coalescer {
  private running?: Promise<void>;
  private pending = false;
  private pendingReasons = new Set<string>();
  private stopped = false;

  constructor(private readonly job: (reasons: string[]) => Promise<void>) {}

  trigger(reason: string): void {
    if (this.stopped) return;
    this.pendingReasons.add(reason);
    this.pending = true;
    if (!this.running) this.running = this.loop().finally(() => { this.running = undefined; });
  }

  /** No new runs; resolves once the current one (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pending = false;
    await this.running;
  }

  /** Resolves when no run is in progress or pending (used by tests and teardown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    while (this.pending && !this.stopped) {
      this.pending = false;
      const reasons = [...this.pendingReasons];
      this.pendingReasons.clear();
      try {
        await this.job(reasons);
      } catch {
        // The job logs its own failures; a failed run must not stop later ones.
      }
    }
  }
}
