/**
 * Deterministic tie-breaks. Hosts that score the same are ordered by a hash of the seed
 * and the host id: the same seed always gives the same order, a different seed shuffles
 * ties differently, and nothing depends on Math.random or the clock.
 */
import type { Seed } from "./types";

/** FNV-1a over UTF-16 code units, finished with murmur3's mixer for good low bits. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** murmur3 fmix32: spreads every input bit over the output. */
export function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function seedHash(seed: Seed): number {
  return hashString(typeof seed === "number" ? `n:${seed}` : `s:${seed}`);
}

/** The tie-break rank of a host (lower wins), from the host id's hash and the seed's. */
export function tieBreakRank(hostIdHash: number, seedHashValue: number): number {
  return mix32(hostIdHash ^ Math.imul(seedHashValue, 0x9e3779b1));
}
