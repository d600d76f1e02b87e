import type { HostDesiredState, HostObservedState } from "../runtime/protocol/model";
import { type HeartbeatCadence, sameCadence } from "../runtime/protocol/heartbeat-cadence";
import type { Logger } from "./log";
import type { ObservedPart } from "./reconcile";
import { RedisLink, redisReason } from "./redis-link";

/**
 * SET <heartbeat> {"at","agentVersion"} PX ttl, every interval. The key expiring is how the
 * server notices a lost host, so a failed beat is only logged (once per outage), never fatal.
 * The cadence is the registration's until a desired document stretches it (a large
 * environment: runtime/protocol/heartbeat-cadence.ts; HeartbeatPart below).
 */
export class Heartbeat {
  private timer?: NodeJS.Timeout;
  private failing = false;
  private cadence: HeartbeatCadence;

  constructor(
    private readonly link: RedisLink,
    private readonly key: string,
    /** The registration's cadence. */
    readonly base: HeartbeatCadence,
    private readonly agentVersion: string,
    private readonly log: Logger,
  ) {
    this.cadence = base;
  }

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.cadence.intervalMs);
    // Beat as soon as Redis is back rather than up to one interval later.
    this.link.onReady(() => void this.beat());
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The cadence beats follow now. */
  current(): HeartbeatCadence {
    return this.cadence;
  }

  /**
   * Follows a new cadence: one beat at once (the key takes the new TTL now, so a longer
   * interval never outruns the old TTL), then every new interval.
   */
  follow(cadence: HeartbeatCadence): void {
    if (sameCadence(cadence, this.cadence)) return;
    this.log.info("heartbeat cadence changed", { intervalMs: cadence.intervalMs, ttlMs: cadence.ttlMs, wasIntervalMs: this.cadence.intervalMs });
    this.cadence = cadence;
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.beat(), cadence.intervalMs);
    void this.beat();
  }

  private async beat(): Promise<void> {
    if (!this.timer) return;
    const value = JSON.stringify({ at: new Date().toISOString(), agentVersion: this.agentVersion });
    try {
      await this.link.cmd.set(this.key, value, "PX", this.cadence.ttlMs);
      if (this.failing) this.log.info("heartbeat resumed");
      this.failing = false;
    } catch (err) {
      this.link.noteError(err);
      if (!this.failing) this.log.warn("heartbeat failed", { reason: redisReason(err) });
      this.failing = true;
    }
  }
}

/** The heartbeat's part of following the desired document: its cadence (the registration's when the document names none). */
export class HeartbeatPart implements ObservedPart {
  constructor(private readonly heartbeat: Heartbeat) {}

  apply(desired: HostDesiredState): void {
    this.heartbeat.follow(desired.heartbeat ?? this.heartbeat.base);
  }

  addTo(_observed: HostObservedState): void {
    // Nothing to report: the beats themselves are the report.
  }
}
