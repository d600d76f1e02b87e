import type { Logger } from "./log";
import { RedisLink, redisReason } from "./redis-link";

/**
 * SET <heartbeat> {"at","agentVersion"} PX ttl, every interval. The key expiring is how the
 * server notices a lost host, so a failed beat is only logged (once per outage), never fatal.
 */
export class Heartbeat {
  private timer?: NodeJS.Timeout;
  private failing = false;

  constructor(
    private readonly link: RedisLink,
    private readonly key: string,
    private readonly intervalMs: number,
    private readonly ttlMs: number,
    private readonly agentVersion: string,
    private readonly log: Logger,
  ) {}

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    // Beat as soon as Redis is back rather than up to one interval later.
    this.link.onReady(() => void this.beat());
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async beat(): Promise<void> {
    if (!this.timer) return;
    const value = JSON.stringify({ at: new Date().toISOString(), agentVersion: this.agentVersion });
    try {
      await this.link.cmd.set(this.key, value, "PX", this.ttlMs);
      if (this.failing) this.log.info("heartbeat resumed");
      this.failing = false;
    } catch (err) {
      this.link.noteError(err);
      if (!this.failing) this.log.warn("heartbeat failed", { reason: redisReason(err) });
      this.failing = true;
    }
  }
}
