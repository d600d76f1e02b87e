import { backoffMs, delay } from "./backoff";
import { errorMessage, Logger } from "./log";
import { nudgeBlockMs, RedisLink, redisReason, whenReady } from "./redis-link";

export interface Nudge {
  id: string;
  type: string;
  fields: Record<string, string>;
}

/** Window before registration within which nudges still count for a fresh identity (clock skew). */
const freshIdentitySkewMs = 30_000;

/**
 * The cursor a fresh identity starts from: just before its registration, so a teardown left on
 * the stream by an earlier life of the same host id is not replayed, yet a nudge sent right
 * after registration (before the first XREAD) is not missed.
 */
export function initialCursor(registeredAt: string): string {
  const ms = Date.parse(registeredAt);
  return Number.isFinite(ms) ? `${Math.max(0, ms - freshIdentitySkewMs)}-0` : "0-0";
}

/**
 * XREAD BLOCK on the host's nudges stream, on its own connection, from the last id handled
 * (persisted, so an agent restart neither replays old nudges nor misses ones sent while it was
 * down). The handler returns false to stop reading (teardown).
 */
export class NudgeReader {
  private readonly abort = new AbortController();
  private loop?: Promise<void>;

  constructor(
    private readonly link: RedisLink,
    private readonly key: string,
    private cursor: string,
    private readonly saveCursor: (id: string) => void,
    private readonly onNudge: (nudge: Nudge) => Promise<boolean>,
    private readonly log: Logger,
    private readonly blockMs = nudgeBlockMs,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    // Ends a pending XREAD BLOCK now rather than when its block time runs out.
    this.link.blocking.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    const redis = this.link.blocking;
    for (let failures = 0; !this.abort.signal.aborted; ) {
      await whenReady(redis, 1_000, this.abort.signal);
      if (this.abort.signal.aborted) return;
      if (redis.status !== "ready") continue;
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await redis.xread("COUNT", 100, "BLOCK", this.blockMs, "STREAMS", this.key, this.cursor)) as typeof reply;
        failures = 0;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.link.noteError(err);
        // A timed-out XREAD means a dead connection (the block time is shorter): make a new one.
        if (/timed out/i.test(errorMessage(err))) redis.disconnect(true);
        const wait = backoffMs(failures++, 200, 5_000);
        this.log.debug("nudge read failed; retrying", { reason: redisReason(err), retryInMs: wait });
        await delay(wait, this.abort.signal);
        continue;
      }
      for (const [, entries] of reply ?? []) {
        for (const [id, flat] of entries) {
          const fields: Record<string, string> = {};
          for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
          // The cursor moves only once a nudge is handled: a teardown cut short by a crash is read again.
          const more = await this.onNudge({ id, type: fields.type ?? "", fields });
          if (!more) return;
          this.cursor = id;
          this.saveCursor(id);
        }
      }
    }
  }
}
