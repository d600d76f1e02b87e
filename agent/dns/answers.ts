import * as dnsPacket from "dns-packet";
import { DROVER_DOMAIN } from "./directory";
import { inDroverDomain, normalizeName } from "./names";
import type { Query } from "./query";
import { FLAG, RCODE } from "./wire";

/** What we advertise and the most we send over UDP with EDNS (the DNS flag day 2020 size). */
export const EDNS_PAYLOAD = 1232;
const PLAIN_UDP_LIMIT = 512;

/** Largest response the client accepts over UDP. */
export function udpLimit(q: Query): number {
  if (q.ednsPayload === undefined) return PLAIN_UDP_LIMIT;
  return Math.min(EDNS_PAYLOAD, Math.max(PLAIN_UDP_LIMIT, q.ednsPayload));
}

/** RD and CD come from the query; drover is authoritative for its names and recursion is available. */
function responseFlags(q: Query, rcode: number): number {
  return (q.flags & (FLAG.RD | FLAG.CD)) | FLAG.AA | FLAG.RA | rcode;
}

const opt: dnsPacket.OptAnswer = {
  name: ".", type: "OPT", udpPayloadSize: EDNS_PAYLOAD, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [],
};

/**
 * The SOA that lets a resolver cache a negative answer for a short time (RFC 2308); only
 * for names under drover.internal, the one zone drover really owns.
 */
function soaFor(name: string, ttl: number): dnsPacket.Answer[] {
  if (!inDroverDomain(normalizeName(name))) return [];
  return [{
    name: DROVER_DOMAIN, type: "SOA", class: "IN", ttl,
    data: { mname: `ns.${DROVER_DOMAIN}`, rname: `hostmaster.${DROVER_DOMAIN}`, serial: 1, refresh: ttl, retry: ttl, expire: ttl, minimum: ttl },
  }];
}

/**
 * A complete drover response, encoded by dns-packet: A records for `ips` in the given order
 * (all of them: callers trim to the UDP limit), NXDOMAIN or NODATA with an SOA otherwise.
 */
export function encodeDroverResponse(q: Query, rcode: number, ips: readonly string[], ttl: number): Buffer {
  const answers: dnsPacket.Answer[] = ips.map((ip) => ({ name: q.name, type: "A", class: "IN", ttl, data: ip }));
  return dnsPacket.encode({
    type: "response",
    id: q.id,
    flags: responseFlags(q, rcode),
    questions: [{ name: q.name, type: q.type as dnsPacket.RecordType, class: q.class as dnsPacket.RecordClass }],
    answers,
    authorities: ips.length === 0 ? soaFor(q.name, ttl) : [],
    additionals: q.ednsPayload === undefined ? [] : [opt],
  });
}

/** A SERVFAIL carrying the question (for when no upstream answered). */
export function encodeServfail(q: Query): Buffer {
  return dnsPacket.encode({
    type: "response",
    id: q.id,
    flags: (q.flags & (FLAG.RD | FLAG.CD)) | FLAG.RA | RCODE.SERVFAIL,
    questions: [{ name: q.name, type: q.type as dnsPacket.RecordType, class: q.class as dnsPacket.RecordClass }],
    additionals: q.ednsPayload === undefined ? [] : [opt],
  });
}

/** A random subset of at most `k` addresses in random order (partial Fisher–Yates on a copy). */
export function shuffled(ips: readonly string[], k = ips.length): string[] {
  const out = ips.slice();
  const n = Math.min(k, out.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(Math.random() * (out.length - i));
    const t = out[i]; out[i] = out[j]; out[j] = t;
  }
  out.length = n;
  return out;
}
