/**
 * Samples every statsIntervalMs and appends the sample to the host's stats stream, capped to
 * statsHistoryLength entries: that stream is the short history a dashboard fills its gaps
 * from after a drop. A sample still running when the next is due is not overlapped; samples
 * are skipped while Redis is away (a plot shows the gap rather than made-up points).
 */
import type Redis from "ioredis";
import { statsHistoryLength, statsIntervalMs } from "../../runtime/protocol/stats";
import { errorMessage, Logger } from "../log";
import { SamplerSources, StatsSampler } from "./sampler";

export class StatsPublisher {
  private timer?: NodeJS.Timeout;
  private running = false;
  private failures = 0;
  /** The first sample has no earlier reading to take rates from: it only primes the sampler. */
  private primed = false;
  private missingSaid = false;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly sampler: StatsSampler,
    private readonly log: Logger,
    private readonly intervalMs = statsIntervalMs,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    void this.tick();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const sample = await this.sampler.sample();
      if (!this.primed) {
        this.primed = true;
        return;
      }
      if (this.redis.status === "ready") {
        // NOMKSTREAM: the server makes the stream when the host registers and deletes it when
        // the host or its environment is purged; an agent still running then (or restarted
        // before its Redis user is gone) must not bring back a key of a deleted host.
        const id = await this.redis.xadd(this.key, "NOMKSTREAM", "MAXLEN", "~", String(statsHistoryLength), "*", "s", JSON.stringify(sample));
        if (id === null && !this.missingSaid) {
          this.missingSaid = true;
          this.log.warn("no stats stream for this host (made at registration, removed with the host): samples are not kept");
        }
      }
      this.failures = 0;
    } catch (err) {
      // One line per run of failures, not one every two seconds.
      if (this.failures++ === 0) this.log.warn("stats sample not published", { reason: errorMessage(err) });
    } finally {
      this.running = false;
    }
  }
}
