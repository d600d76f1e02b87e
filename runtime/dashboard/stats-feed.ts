/**
 * One reader per environment watched by at least one stats socket of this server: it blocks
 * in XREAD on the stats streams of the environment's hosts (its own connection) and hands
 * every new sample to every subscriber, so Redis work follows environments, not browsers.
 */
import type Redis from "ioredis";
import type { Keys } from "../protocol/keys";
import type { StatsMessage, StatsSample } from "../protocol/stats";
import type { Store } from "../store/store";

export interface FeedSubscriber {
  deliver(hostId: string, id: string, text: string): void;
}

const hostListRefreshMs = 5_000;
const blockMs = 3_000;

export function statsMessageText(hostId: string, id: string, raw: string): string | undefined {
  let sample: StatsSample;
  try {
    sample = JSON.parse(raw) as StatsSample;
  } catch {
    return undefined;
  }
  const message: StatsMessage = { type: "sample", hostId, id, sample };
  return JSON.stringify(message);
}

/** Stream entries as ioredis returns them: [id, [field, value, ...]]. */
type Entry = [string, string[]];

export function sampleField(entry: Entry): string | undefined {
  const fields = entry[1];
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === "s") return fields[i + 1];
  return undefined;
}

export class StatsFeed {
  readonly subscribers = new Set<FeedSubscriber>();
  private closed = false;
  private hostIds: string[] = [];
  private hostsReadAt = 0;
  /** Last id read per host stream; "$" until the first read. */
  private readonly after = new Map<string, string>();
  /**
   * Settles once the feed knows where it starts in every host's stream: a subscriber reads its
   * history after that, so that a sample landing in between is in one or the other (the
   * subscriber drops what it sent twice). Read before, a sample could fall in neither.
   */
  readonly ready: Promise<void>;
  private markReady!: () => void;

  constructor(
    private readonly envId: string,
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly store: Store,
    private readonly log: (message: string, err?: unknown) => void,
  ) {
    this.ready = new Promise((resolve) => { this.markReady = resolve; });
    void this.loop();
  }

  close(): void {
    this.closed = true;
    this.markReady();
    this.redis.disconnect();
  }

  private async refreshHosts(): Promise<void> {
    if (Date.now() - this.hostsReadAt < hostListRefreshMs) return;
    this.hostsReadAt = Date.now();
    const hosts = await this.store.list(this.envId, "host");
    this.hostIds = hosts.map((h) => h.id);
    for (const id of this.hostIds) {
      if (!this.after.has(id)) {
        // Start after the newest entry: what came before is each subscriber's backlog read.
        const last = (await this.redis.xrevrange(this.keys.host(this.envId, id).stats, "+", "-", "COUNT", 1))[0];
        this.after.set(id, last ? last[0] : "0-0");
      }
    }
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      try {
        await this.refreshHosts().finally(() => this.markReady());
        if (this.hostIds.length === 0) {
          await new Promise((r) => setTimeout(r, blockMs));
          continue;
        }
        const streams = this.hostIds.map((id) => this.keys.host(this.envId, id).stats);
        const ids = this.hostIds.map((id) => this.after.get(id) ?? "0-0");
        const reply = (await this.redis.xread("COUNT", 100, "BLOCK", blockMs, "STREAMS", ...streams, ...ids)) as Array<[string, Entry[]]> | null;
        failures = 0;
        for (const [stream, entries] of reply ?? []) {
          const hostId = this.hostIds[streams.indexOf(stream)];
          if (hostId === undefined) continue;
          for (const entry of entries) {
            this.after.set(hostId, entry[0]);
            const raw = sampleField(entry);
            const text = raw === undefined ? undefined : statsMessageText(hostId, entry[0], raw);
            if (text === undefined) continue;
            for (const s of this.subscribers) s.deliver(hostId, entry[0], text);
          }
        }
      } catch (err) {
        if (this.closed) return;
        if (failures++ === 0) this.log("stats feed: reading the stats streams failed; retrying", err);
        await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** failures)));
      }
    }
  }
}
