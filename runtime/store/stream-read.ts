import type Redis from "ioredis";
import { keySlot } from "./key-slot";

export type XreadReply = [string, [string, string[]][]][];

/** How often a Redis Cluster's streams are polled when they span several slots. */
const clusterPollMs = 50;

/**
 * XREAD of several streams, waiting up to `blockMs` for an entry. On one Redis (or Sentinel)
 * one `XREAD BLOCK` covers them all. Redis Cluster refuses an XREAD whose streams are in
 * different slots, and blocking commands to one node wait behind each other on ioredis's one
 * connection per node, so there the streams are grouped by slot (an environment's streams
 * share its slot), each group read without blocking, all groups at once, again every 50 ms
 * until an entry arrives or `blockMs` passes. A single group still blocks.
 */
export async function readStreams(redis: Redis, streams: string[], ids: string[], blockMs: number, count = 100): Promise<XreadReply | null> {
  const groups = redis.isCluster ? groupBySlot(streams, ids) : [{ streams, ids }];
  if (groups.length === 1) {
    return (await redis.xread("COUNT", count, "BLOCK", Math.ceil(blockMs), "STREAMS", ...groups[0].streams, ...groups[0].ids)) as XreadReply | null;
  }
  const deadline = Date.now() + blockMs;
  for (;;) {
    const replies = await Promise.all(groups.map((g) => redis.xread("COUNT", count, "STREAMS", ...g.streams, ...g.ids) as Promise<XreadReply | null>));
    const found = replies.flatMap((r) => r ?? []);
    if (found.length > 0) return found;
    const left = deadline - Date.now();
    if (left <= 0) return null;
    await new Promise((r) => setTimeout(r, Math.min(clusterPollMs, left)));
  }
}

function groupBySlot(streams: string[], ids: string[]): Array<{ streams: string[]; ids: string[] }> {
  const bySlot = new Map<number, { streams: string[]; ids: string[] }>();
  streams.forEach((stream, i) => {
    const slot = keySlot(stream);
    const group = bySlot.get(slot) ?? { streams: [], ids: [] };
    group.streams.push(stream);
    group.ids.push(ids[i]);
    bySlot.set(slot, group);
  });
  return [...bySlot.values()];
}
