import * as dnsPacket from "dns-packet";
import { FLAG, HEADER_BYTES, lastQuestionLength, RCODE, questionRoundTrips } from "./wire";

/** A question drover will answer or forward. */
export interface Query {
  id: number;
  /** The query's flags word; RD and CD are echoed into the response. */
  flags: number;
  /** As asked (case kept: a response must echo the question byte for byte). */
  name: string;
  type: string;
  class: string;
  /** The client's EDNS UDP payload size, when it sent an OPT record. */
  ednsPayload?: number;
  /** Bytes of the question on the wire (name, type, class), right after the header. */
  questionLength: number;
}

export type Incoming =
  | { kind: "drop" }
  | { kind: "error"; packet: Buffer }
  | { kind: "query"; query: Query };

const DROP: Incoming = Object.freeze({ kind: "drop" });

/**
 * Records besides the question a query may carry (OPT, TSIG, ...); real resolvers send at
 * most two. dns-packet allocates an array per header count before decoding a byte, so a
 * header claiming 3 × 65535 records would cost about a millisecond per datagram: checked
 * from the header first.
 */
const MAX_EXTRA_RECORDS = 8;

/**
 * Decides what to do with one datagram. Policy:
 * - shorter than a header, QR=1 (a response: answering it could loop between two
 *   servers), more than MAX_EXTRA_RECORDS records, or undecodable → dropped silently: no
 *   reply to garbage, no amplification;
 * - opcode ≠ QUERY → NOTIMP, the RFC 1035 code for "this kind of query is not supported";
 * - qdcount ≠ 1 → FORMERR (RFC 9619: exactly one question);
 * both error replies are a bare header (id, opcode, RD echoed), never larger than the query.
 * A question dns-packet cannot re-encode is refused later (`refuseIfNotRoundTrip`), off the
 * hot path. Never throws.
 */
export function parseQuery(msg: Buffer): Incoming {
  if (msg.length < HEADER_BYTES) return DROP;
  const flags = msg.readUInt16BE(2);
  if (flags & FLAG.QR) return DROP;
  if (msg.readUInt16BE(4) > MAX_EXTRA_RECORDS
    || msg.readUInt16BE(6) + msg.readUInt16BE(8) + msg.readUInt16BE(10) > MAX_EXTRA_RECORDS) return DROP;
  let decoded: dnsPacket.DecodedPacket;
  try {
    decoded = dnsPacket.decode(msg);
  } catch {
    return DROP;
  }
  const id = msg.readUInt16BE(0);
  const opcode = (flags >> 11) & 0xf;
  if (opcode !== 0) return { kind: "error", packet: errorHeader(id, flags, RCODE.NOTIMP) };
  const questions = decoded.questions ?? [];
  if (questions.length !== 1) return { kind: "error", packet: errorHeader(id, flags, RCODE.FORMERR) };
  const q = questions[0];
  if (typeof q.name !== "string" || typeof q.type !== "string") return DROP;
  const questionLength = lastQuestionLength(); // the one question was the last decoded
  let ednsPayload: number | undefined;
  for (const rr of decoded.additionals ?? []) {
    if (rr.type === "OPT") ednsPayload = (rr as dnsPacket.OptAnswer).udpPayloadSize;
  }
  return { kind: "query", query: { id, flags, name: q.name, type: q.type, class: String(q.class ?? "IN"), ednsPayload, questionLength } };
}

/**
 * REFUSED (echoing the question as it came, or nothing if even that fails) for a question
 * dns-packet would not re-encode byte for byte: binary labels, a dot inside a label, an
 * unknown class. Any response drover encodes echoes the question, and must echo this one.
 * Undefined when the question is fine.
 */
export function refuseIfNotRoundTrip(msg: Buffer, q: Query): Incoming | undefined {
  const question = { name: q.name, type: q.type as dnsPacket.RecordType, class: q.class as dnsPacket.RecordClass };
  if (questionRoundTrips(msg, question, q.questionLength)) return undefined;
  const refused = echoQuestion(msg, q.questionLength, RCODE.REFUSED);
  return refused ? { kind: "error", packet: refused } : DROP;
}

/** A header-only response carrying `rcode`, with the query's opcode and RD bit. */
export function errorHeader(id: number, queryFlags: number, rcode: number): Buffer {
  const keep = queryFlags & ((0xf << 11) | FLAG.RD);
  return dnsPacket.encode({ type: "response", id, flags: keep | FLAG.RA | rcode });
}

/**
 * A reply made of the query's own header and question with flags and counts set: for a
 * question drover cannot re-encode. Checked by decoding, since a name in the question may
 * point into the header we just changed; undefined (drop) if it no longer decodes.
 */
function echoQuestion(msg: Buffer, qlen: number, rcode: number): Buffer | undefined {
  const out = Buffer.from(msg.subarray(0, HEADER_BYTES + qlen));
  const flags = msg.readUInt16BE(2);
  out.writeUInt16BE(FLAG.QR | (flags & (FLAG.RD | FLAG.CD)) | FLAG.RA | rcode, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(0, 10);
  try {
    dnsPacket.decode(out);
    return out;
  } catch {
    return undefined;
  }
}
