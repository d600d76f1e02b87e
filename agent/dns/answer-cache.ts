import { encodeDroverResponse, shuffled, udpLimit } from "./answers";
import type { Query } from "./query";
import { FLAG, HEADER_BYTES, questionLength, recordLength } from "./wire";

/**
 * A drover response encoded once by dns-packet for one query, with where its A records
 * sit. dns-packet never compresses names, so every A record of one answer has the same
 * length (`stride`) and ends with its 4-byte address.
 */
export interface EncodedAnswer {
  /** The full response (flags already echo the query's RD/CD); only the id is left to set. */
  packet: Buffer;
  answersAt: number;
  stride: number;
  count: number;
  /** Records sent over UDP: all of them, or as many as fit the asker's UDP limit. */
  send: number;
  /** Records sent over TCP: all of them, or as many as fit a 65,535-byte message. */
  tcpSend: number;
  /** Bytes after the answers: the SOA of a negative answer and/or our OPT record. */
  tail: number;
}

/** More records than fit in any UDP response are pointless; a big service gets a random subset. */
const MAX_RECORDS = 1024;
/** A DNS message over TCP carries a 16-bit length. */
export const TCP_MESSAGE_LIMIT = 65_535;

export function encodeAnswer(q: Query, rcode: number, ips: readonly string[], ttl: number): EncodedAnswer {
  const kept = ips.length > MAX_RECORDS ? shuffled(ips, MAX_RECORDS) : ips;
  const packet = encodeDroverResponse(q, rcode, kept, ttl);
  const answersAt = HEADER_BYTES + questionLength(packet);
  const stride = kept.length ? recordLength({ name: q.name, type: "A", class: "IN", ttl, data: kept[0] }) : 0;
  const tail = packet.length - answersAt - kept.length * stride;
  const fit = (limit: number) =>
    packet.length <= limit || stride === 0 ? kept.length : Math.max(0, Math.floor((limit - answersAt - tail) / stride));
  return { packet, answersAt, stride, count: kept.length, send: fit(udpLimit(q)), tcpSend: fit(TCP_MESSAGE_LIMIT), tail };
}

let scratch = new Uint16Array(64);

/**
 * The answer for one query: a copy of the encoded packet with the query's id and its A
 * records in random order; when they do not all fit (the asker's UDP limit, or 65,535
 * bytes over TCP), a random subset that does, ANCOUNT patched. Over UDP such a subset
 * carries TC (RFC 1035 §4.1.1): a resolver that can retries over TCP and gets them all,
 * one that cannot still has usable addresses. The cached packet itself is never touched.
 */
export function serveAnswer(e: EncodedAnswer, id: number, tcp = false): Buffer {
  const k = tcp ? e.tcpSend : e.send;
  const out = Buffer.allocUnsafe(e.answersAt + k * e.stride + e.tail);
  if (k === e.count) {
    // All records fit: copy once, then shuffle the 4-byte addresses in place with plain
    // byte moves (cheaper than a native copy call per record).
    out.set(e.packet);
    const first = e.answersAt + e.stride - 4;
    for (let i = e.count - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      if (j === i) continue;
      const a = first + i * e.stride, b = first + j * e.stride;
      for (let x = 0; x < 4; x++) { const t = out[a + x]; out[a + x] = out[b + x]; out[b + x] = t; }
    }
  } else {
    e.packet.copy(out, 0, 0, e.answersAt);
    if (scratch.length < e.count) scratch = new Uint16Array(e.count * 2);
    for (let i = 0; i < e.count; i++) scratch[i] = i;
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(Math.random() * (e.count - i));
      const pick = scratch[j];
      scratch[j] = scratch[i];
      const from = e.answersAt + pick * e.stride;
      e.packet.copy(out, e.answersAt + i * e.stride, from, from + e.stride);
    }
    e.packet.copy(out, e.answersAt + k * e.stride, e.packet.length - e.tail);
    out.writeUInt16BE(k, 6);
    if (!tcp) out.writeUInt16BE(out.readUInt16BE(2) | FLAG.TC, 2);
  }
  out.writeUInt16BE(id, 0);
  return out;
}

/**
 * Encoded answers by (view, query bytes after the id). A query repeats byte for byte but
 * for its id — same name, type, flags, EDNS record — so a hit needs no decoding at all: the
 * hot path is a map lookup and a buffer copy. Entries are only made from queries that
 * dns-packet decoded in full, whatever their id. Valid for one directory; the owner makes a
 * new cache when the directory changes. Bounded: when full it starts over, which costs one
 * encode per name.
 */
export class AnswerCache {
  /** One map per view, so the key is the query's bytes as they are (no concatenation). */
  private readonly byView = new Map<number, Map<string, EncodedAnswer>>();
  private count = 0;

  constructor(private readonly maxEntries: number) {}

  /** Queries longer than this are answered but not cached (keeps the cache's memory bounded). */
  static readonly MAX_KEY_BYTES = 512;

  static key(msg: Buffer): string | undefined {
    if (msg.length < HEADER_BYTES || msg.length > AnswerCache.MAX_KEY_BYTES) return undefined;
    return msg.toString("latin1", 2);
  }

  get(viewId: number, key: string): EncodedAnswer | undefined {
    return this.byView.get(viewId)?.get(key);
  }

  set(viewId: number, key: string, e: EncodedAnswer): void {
    if (this.count >= this.maxEntries) {
      this.byView.clear();
      this.count = 0;
    }
    let answers = this.byView.get(viewId);
    if (!answers) this.byView.set(viewId, (answers = new Map()));
    if (!answers.has(key)) this.count++;
    answers.set(key, e);
  }

  get size(): number {
    return this.count;
  }
}
