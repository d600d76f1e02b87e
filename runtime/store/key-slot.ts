/**
 * The Redis Cluster hash slot of a key (CRC16 of the key, or of its `{hash tag}`, mod 16384),
 * by the same package ioredis's Cluster client routes with. It ships no types: this is them.
 */
// eslint-disable-next-line @typescript-eslint/no-var-requires
const calculateSlot = require("cluster-key-slot") as (key: string) => number;

export function keySlot(key: string): number {
  return calculateSlot(key);
}
