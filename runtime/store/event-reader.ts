import type Redis from "ioredis";
import { withRedis } from "./redis-errors";
import type { EventReader, StoreEvent } from "./store";

type StreamEntries = [id: string, fields: string[]][];

/**
 * Reads one environment's events stream on a connection of its own: XREAD BLOCK holds a
 * connection until an entry arrives, so it must not share the store's.
 */
export class RedisEventReader implements EventReader {
  private closed = false;

  /** `connection` is owned by the reader (close() disconnects it); pass e.g. `store.redis.duplicate()`. */
  constructor(private readonly connection: Redis, private readonly streamKey: string) {}

  async latestId(): Promise<string> {
    const newest = await withRedis(() => this.connection.xrevrange(this.streamKey, "+", "-", "COUNT", 1));
    return newest[0]?.[0] ?? "0-0";
  }

  async read(afterId: string, blockMs: number): Promise<StoreEvent[]> {
    if (this.closed) return [];
    try {
      const reply = (await withRedis(() =>
        this.connection.xread("COUNT", 100, "BLOCK", blockMs, "STREAMS", this.streamKey, afterId))) as [string, StreamEntries][] | null;
      return (reply?.[0]?.[1] ?? []).map(([id, flat]) => ({ id, fields: streamFieldsOf(flat) }));
    } catch (err) {
      if (this.closed) return [];
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.connection.disconnect();
  }
}

/** A stream entry's flat [field, value, ...] list as an object. */
export function streamFieldsOf(flat: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  return fields;
}
