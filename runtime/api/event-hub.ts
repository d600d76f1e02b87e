/**
 * Event stream subscribers share one Redis reader per environment (fan-out in the server),
 * so the number of Redis connections follows the environments being watched, not the
 * clients: an environment key can no longer exhaust Redis `maxclients` by opening streams.
 * Each key may hold at most `maxPerKey` streams at once; one more is refused with 429.
 *
 * A feed (one per environment with subscribers) blocks in XREAD on its own connection and
 * hands every entry to every subscriber's queue; it closes when its last subscriber leaves.
 * A subscriber resuming from an older id (Last-Event-ID) first reads its backlog with
 * non-blocking XRANGE pages on the store's shared connection while live entries queue up;
 * the ids it has sent filter out what both paths bring. A subscriber that falls too far
 * behind is cut off (it resumes with Last-Event-ID), so a slow client never holds memory.
 */
import { DroverError } from "../protocol/errors";
import type { EventReader, Store, StoreEvent } from "../store/store";

export interface EventHubOptions {
  store: Store;
  /** How long one XREAD blocks; every subscriber gets a keep-alive when it comes back empty. */
  blockMs: number;
  /** Open streams one key may hold. */
  maxPerKey: number;
  /** Entries a subscriber may have waiting before it is cut off. */
  maxQueue?: number;
  log: (message: string, err?: unknown) => void;
}

/** What a subscriber gets next: entries, or a keep-alive tick when nothing happened for blockMs. */
export type Delivery = { events: StoreEvent[] } | { keepAlive: true };

/** The stream ids "<ms>-<seq>" in order. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(Number);
  const [bm, bs] = b.split("-").map(Number);
  return am !== bm ? am - bm : as - bs;
}

const BACKLOG_PAGE = 100;

export class EventSubscription {
  private queue: Delivery[] = [];
  private wake?: () => void;
  private closed = false;
  private overflowed = false;
  /** Where the backlog read is (exclusive), while there is one to read. */
  private backlogAfter?: string;

  constructor(
    private readonly feed: EnvFeed,
    /** The last id sent; entries at or before it are not sent again. */
    private sent: string,
    resumeFrom: string | undefined,
    private readonly maxQueue: number,
    private readonly onClose: () => void,
  ) {
    if (resumeFrom !== undefined) this.backlogAfter = resumeFrom;
  }

  /** Called by the feed. */
  push(delivery: Delivery): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueue) {
      this.overflowed = true;
      this.queue = [];
    } else {
      this.queue.push(delivery);
    }
    this.wake?.();
  }

  /** The next entries (or keep-alive), waiting for them; rejects once cut off, resolves undefined once closed. */
  async next(): Promise<Delivery | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      if (this.overflowed) throw new DroverError("Unavailable", `event stream of ${this.feed.envId} fell more than ${this.maxQueue} entries behind; resume with Last-Event-ID`);
      if (this.backlogAfter !== undefined) {
        const page = await this.feed.backlog(this.backlogAfter, BACKLOG_PAGE);
        this.backlogAfter = page.length === BACKLOG_PAGE ? page[page.length - 1].id : undefined;
        const fresh = this.unsent(page);
        if (fresh.length) return { events: fresh };
        continue;
      }
      const delivery = this.queue.shift();
      if (delivery === undefined) {
        await new Promise<void>((resolve) => { this.wake = resolve; });
        this.wake = undefined;
        continue;
      }
      if ("keepAlive" in delivery) return delivery;
      const fresh = this.unsent(delivery.events);
      if (fresh.length) return { events: fresh };
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.wake?.();
    this.onClose();
  }

  private unsent(events: StoreEvent[]): StoreEvent[] {
    const out = events.filter((e) => compareStreamIds(e.id, this.sent) > 0);
    if (out.length) this.sent = out[out.length - 1].id;
    return out;
  }
}

/** One environment's shared reader and its subscribers. */
class EnvFeed {
  readonly subscribers = new Set<EventSubscription>();
  /** Resolves with the newest id when the reader is positioned. */
  readonly ready: Promise<string>;
  private reader?: EventReader;
  private stopped = false;

  get isStopped(): boolean {
    return this.stopped;
  }

  constructor(readonly envId: string, private readonly o: EventHubOptions, private readonly onIdle: () => void) {
    this.ready = this.start();
    // A failed start is reported to the subscriber that awaits `ready`; never unhandled.
    this.ready.catch(() => undefined);
  }

  backlog(afterId: string, count: number): Promise<StoreEvent[]> {
    return this.o.store.eventsAfter(this.envId, afterId, count);
  }

  leave(sub: EventSubscription): void {
    this.subscribers.delete(sub);
    if (this.subscribers.size === 0) this.stop();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onIdle();
    this.reader?.close().catch((err) => this.o.log("api: closing an event reader failed", err));
    for (const sub of [...this.subscribers]) sub.close();
  }

  private async start(): Promise<string> {
    this.reader = this.o.store.openEventReader(this.envId);
    let latest: string;
    try {
      latest = await this.reader.latestId();
    } catch (err) {
      this.stop();
      throw err;
    }
    void this.loop(latest);
    return latest;
  }

  private async loop(after: string): Promise<void> {
    while (!this.stopped) {
      let events: StoreEvent[];
      try {
        events = await this.reader!.read(after, this.o.blockMs);
      } catch (err) {
        if (!this.stopped) this.o.log(`api: reading the event stream of ${this.envId} failed`, err);
        // Subscribers end their streams; clients reconnect with Last-Event-ID.
        this.stop();
        return;
      }
      if (this.stopped) return;
      if (events.length) after = events[events.length - 1].id;
      const delivery: Delivery = events.length ? { events } : { keepAlive: true };
      for (const sub of this.subscribers) sub.push(delivery);
    }
  }
}

export class EventHub {
  private readonly feeds = new Map<string, EnvFeed>();
  private readonly perKey = new Map<string, number>();

  constructor(private readonly o: EventHubOptions) {}

  /**
   * A subscription to `envId`'s events for the caller holding key `keyId` (an id for the key,
   * never the key itself), starting after `resumeFrom` or, without it, at the newest entry.
   * Resolves once positioned, so nothing written after it resolves is missed. 429 when the
   * key already holds maxPerKey streams.
   */
  async subscribe(envId: string, keyId: string, resumeFrom?: string): Promise<EventSubscription> {
    const open = this.perKey.get(keyId) ?? 0;
    if (open >= this.o.maxPerKey) {
      throw new DroverError("TooManyRequests", `this API key already has ${open} event streams open (at most ${this.o.maxPerKey} per key); close one before opening another`, { retryable: true });
    }
    this.perKey.set(keyId, open + 1);
    const release = () => {
      const n = (this.perKey.get(keyId) ?? 1) - 1;
      if (n > 0) this.perKey.set(keyId, n);
      else this.perKey.delete(keyId);
    };
    for (;;) {
      let feed = this.feeds.get(envId);
      if (!feed) {
        const created: EnvFeed = new EnvFeed(envId, this.o, () => { if (this.feeds.get(envId) === created) this.feeds.delete(envId); });
        this.feeds.set(envId, created);
        feed = created;
      }
      let latest: string;
      try {
        latest = await feed.ready;
      } catch (err) {
        release();
        throw err;
      }
      // Its last subscriber left while this one waited: the feed is gone, take a new one.
      if (feed.isStopped) continue;
      const f = feed;
      const sub: EventSubscription = new EventSubscription(f, resumeFrom ?? latest, resumeFrom, this.o.maxQueue ?? 10_000, () => {
        release();
        f.leave(sub);
      });
      f.subscribers.add(sub);
      return sub;
    }
  }

  /** Environments with a feed (one Redis reader each) now. */
  feedCount(): number {
    return this.feeds.size;
  }

  close(): void {
    for (const feed of [...this.feeds.values()]) feed.stop();
  }
}
