import * as dnsPacket from "dns-packet";
import { decodeIdIndependent, FLAG, RCODE, recordSpans } from "./wire";

interface Entry {
  packet: Buffer;
  ttlOffsets: number[];
  storedAt: number;
  expiresAt: number;
}

/** Upper bound on how long an upstream answer is kept, whatever its TTL says. */
const MAX_TTL_SECONDS = 3600;

/**
 * The time an upstream response may be cached: the smallest TTL of its records, the SOA's
 * minimum for a negative answer (RFC 2308). Undefined = do not cache: truncated, an error
 * other than NXDOMAIN, no record to take a TTL from, or a layout we cannot patch.
 */
export function cacheableTtl(packet: Buffer, decoded: dnsPacket.DecodedPacket): { ttl: number; ttlOffsets: number[] } | undefined {
  const flags = packet.readUInt16BE(2);
  const rcode = flags & 0xf;
  if (flags & FLAG.TC) return undefined;
  if (rcode !== RCODE.NOERROR && rcode !== RCODE.NXDOMAIN) return undefined;
  const spans = recordSpans(packet, decoded);
  if (!spans) return undefined;
  let ttl = Infinity;
  const ttlOffsets: number[] = [];
  for (const s of spans) {
    if (s.ttlOffset === undefined) continue;
    ttlOffsets.push(s.ttlOffset);
    ttl = Math.min(ttl, s.ttl, s.soaMinimum ?? Infinity);
  }
  if (ttlOffsets.length === 0 || ttl <= 0) return undefined;
  return { ttl: Math.min(ttl, MAX_TTL_SECONDS), ttlOffsets };
}

/**
 * Upstream responses by (qname lower-cased, qtype, qclass, EDNS or not), LRU-bounded. A hit
 * is the stored packet with the asker's id and every TTL lowered by the time it spent here,
 * so a client never holds a record longer than the upstream allowed.
 */
export class ForwardCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries: number, private readonly now: () => number = Date.now) {}

  static key(name: string, type: string, klass: string, edns: boolean): string {
    return `${name.toLowerCase()}|${type}|${klass}|${edns ? 1 : 0}`;
  }

  /** Keeps `packet` if it can be served again safely; never throws. */
  put(key: string, packet: Buffer): void {
    if (this.maxEntries <= 0) return;
    let c: ReturnType<typeof cacheableTtl>;
    try {
      c = cacheableTtl(packet, decodeIdIndependent(packet));
    } catch {
      return; // what we cannot walk record by record, we cannot age: relay it, do not keep it
    }
    if (!c) return;
    const now = this.now();
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { packet: Buffer.from(packet), ttlOffsets: c.ttlOffsets, storedAt: now, expiresAt: now + c.ttl * 1000 });
  }

  /** A copy ready to send with `id`, or undefined if absent, expired, or bigger than `limit`. */
  get(key: string, id: number, limit: number): Buffer | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    const now = this.now();
    if (now >= e.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    if (e.packet.length > limit) return undefined;
    this.entries.delete(key); // move to the young end
    this.entries.set(key, e);
    const out = Buffer.from(e.packet);
    out.writeUInt16BE(id, 0);
    const aged = Math.floor((now - e.storedAt) / 1000);
    if (aged > 0) {
      for (const off of e.ttlOffsets) out.writeUInt32BE(Math.max(0, out.readUInt32BE(off) - aged), off);
      // A hostile upstream could make a later name point into a TTL; then the patch broke it.
      try {
        dnsPacket.decode(out);
      } catch {
        this.entries.delete(key);
        return undefined;
      }
    }
    return out;
  }

  get size(): number {
    return this.entries.size;
  }
}
