/**
 * The parts of dns-packet its type declarations leave out: the per-section codecs, whose
 * `.bytes` tell where each piece of a packet starts. drover uses them to find offsets in
 * packets dns-packet itself encoded or decoded (to patch ids and TTLs), never to parse
 * by hand.
 */
import * as dnsPacket from "dns-packet";

interface Codec<T> {
  decode(buf: Buffer, offset?: number): T;
  encodingLength(value: T): number;
}
type Bytes<F> = F & { bytes: number };

interface DnsPacketInternals {
  name: { decode: Bytes<(buf: Buffer, offset?: number) => string>; encodingLength(name: string): number };
  question: Codec<dnsPacket.Question> & {
    decode: Bytes<Codec<dnsPacket.Question>["decode"]>;
    /** Writes into `buf` (it returns the question, not the buffer). */
    encode(q: dnsPacket.Question, buf: Buffer, offset: number): unknown;
  };
  answer: Codec<dnsPacket.Answer> & { decode: Bytes<Codec<dnsPacket.Answer>["decode"]> };
}

const internals = dnsPacket as unknown as DnsPacketInternals;

export const HEADER_BYTES = 12;

/** RCODEs drover sends (RFC 1035 §4.1.1). */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** Header flag bits (second 16-bit word). */
export const FLAG = {
  QR: 1 << 15,
  AA: dnsPacket.AUTHORITATIVE_ANSWER,
  TC: dnsPacket.TRUNCATED_RESPONSE,
  RD: dnsPacket.RECURSION_DESIRED,
  RA: dnsPacket.RECURSION_AVAILABLE,
  CD: dnsPacket.CHECKING_DISABLED,
} as const;

/**
 * Wire length of the question dns-packet decoded last: after `decode()` of a packet with
 * one question, that question's (the decoder records it; records use another decoder).
 */
export function lastQuestionLength(): number {
  return internals.question.decode.bytes;
}

/** Length on the wire of the question starting right after the header. Throws if malformed. */
export function questionLength(packet: Buffer): number {
  internals.question.decode(packet, HEADER_BYTES);
  return internals.question.decode.bytes;
}

/**
 * Whether dns-packet re-encodes the question exactly as it arrived. It decodes labels as
 * UTF-8 text joined by dots, so a binary label or one holding a dot would come back
 * different; drover must not answer such a question with a response that echoes another.
 */
export function questionRoundTrips(msg: Buffer, q: dnsPacket.Question, length: number): boolean {
  const again = Buffer.alloc(internals.question.encodingLength(q));
  internals.question.encode(q, again, 0);
  return again.length === length && again.compare(msg, HEADER_BYTES, HEADER_BYTES + length) === 0;
}

/**
 * Decodes a packet whose id drover will rewrite. A name may point (compression) at any
 * earlier byte, even into the header; decoding a copy whose id is 0xffff — read as a label,
 * that is a forward pointer, which dns-packet refuses — proves no name depends on the id.
 */
export function decodeIdIndependent(packet: Buffer): dnsPacket.DecodedPacket {
  const copy = Buffer.from(packet);
  copy.writeUInt16BE(0xffff, 0);
  return dnsPacket.decode(copy);
}

/** Length dns-packet's encoder gives one record (it never compresses names). */
export function recordLength(record: dnsPacket.Answer): number {
  return internals.answer.encodingLength(record);
}

export interface RecordSpan {
  /** Where the TTL field of the record sits (absent for OPT, whose "TTL" holds flags). */
  ttlOffset?: number;
  ttl: number;
  type: string;
  /** SOA's minimum field: the negative-caching TTL (RFC 2308). */
  soaMinimum?: number;
}

/**
 * Every resource record of a packet dns-packet can decode, with the offset of its TTL.
 * Returns undefined if the walk does not end exactly at the end of the packet: then the
 * offsets cannot be trusted and the packet must not be patched.
 */
export function recordSpans(packet: Buffer, decoded: dnsPacket.Packet): RecordSpan[] | undefined {
  let offset = HEADER_BYTES;
  for (let i = 0; i < (decoded.questions?.length ?? 0); i++) {
    internals.question.decode(packet, offset);
    offset += internals.question.decode.bytes;
  }
  const spans: RecordSpan[] = [];
  const count = (decoded.answers?.length ?? 0) + (decoded.authorities?.length ?? 0) + (decoded.additionals?.length ?? 0);
  for (let i = 0; i < count; i++) {
    internals.name.decode(packet, offset);
    const nameBytes = internals.name.decode.bytes;
    const rr = internals.answer.decode(packet, offset);
    if (rr.type === "OPT") spans.push({ ttl: 0, type: "OPT" });
    else {
      const withTtl = rr as { ttl?: number; data?: unknown };
      const soaMinimum = rr.type === "SOA" ? (withTtl.data as dnsPacket.SoaData).minimum : undefined;
      spans.push({ ttlOffset: offset + nameBytes + 4, ttl: withTtl.ttl ?? 0, type: rr.type, soaMinimum });
    }
    offset += internals.answer.decode.bytes;
  }
  return offset === packet.length ? spans : undefined;
}
