import type { DnsDirectory } from "./directory";
import { AnswerCache, encodeAnswer, serveAnswer } from "./answer-cache";
import { encodeServfail } from "./answers";
import { inDroverDomain, normalizeName } from "./names";
import { parseQuery, Query, refuseIfNotRoundTrip } from "./query";
import { resolveIn, viewFor } from "./view";
import { buildDnsIndex, DnsIndex } from "./view-index";
import { decodeIdIndependent, RCODE } from "./wire";

export type Reply = (packet: Buffer) => void;
/** How the query came: over TCP an answer may be as big as 65,535 bytes and is never marked truncated. */
export type Transport = "udp" | "tcp";
/** Hands a question drover does not own to the upstream resolvers; `msg` is the raw query. */
export type ForwardFn = (msg: Buffer, query: Query, reply: Reply) => void;

export interface HandlerOptions {
  ttlSeconds: number;
  forward: ForwardFn;
  /** Entries of encoded drover answers kept per directory; 0 encodes every answer afresh. */
  answerCacheSize: number;
}

export interface HandlerStats {
  queries: number;
  dropped: number;
  errors: number;
  answered: number;
  forwarded: number;
  /** Exceptions caught around a datagram: a bug to fix (the fuzz test holds it at 0). */
  crashes: number;
}

/**
 * One message (a UDP datagram or one framed TCP message) in, at most one reply out (now, or later for forwarded names). Holds the
 * current index; a new directory replaces it in one assignment, and the last good one
 * stays in service for as long as no new one comes (losing Redis must not empty DNS).
 * Never throws: anything unexpected drops the datagram.
 */
export class DnsHandler {
  readonly stats: HandlerStats = { queries: 0, dropped: 0, errors: 0, answered: 0, forwarded: 0, crashes: 0 };
  private index?: DnsIndex;
  private cache: AnswerCache;

  constructor(private readonly options: HandlerOptions) {
    this.cache = new AnswerCache(Math.max(1, options.answerCacheSize));
  }

  /** Builds the index first: a directory that cannot be indexed leaves the old one serving. */
  setDirectory(directory: DnsDirectory): void {
    const index = buildDnsIndex(directory);
    this.index = index;
    this.cache = new AnswerCache(Math.max(1, this.options.answerCacheSize));
  }

  get hasDirectory(): boolean {
    return this.index !== undefined;
  }

  handle(msg: Buffer, sourceIp: string, reply: Reply, transport: Transport = "udp"): void {
    try {
      this.handleUnsafe(msg, sourceIp, reply, transport === "tcp");
    } catch {
      this.stats.crashes++;
    }
  }

  private handleUnsafe(msg: Buffer, sourceIp: string, reply: Reply, tcp: boolean): void {
    const index = this.index;
    const view = index ? viewFor(index, sourceIp) : undefined;
    // Hot path: these exact bytes (but the id) were answered before for this view.
    const key = view && this.options.answerCacheSize > 0 ? AnswerCache.key(msg) : undefined;
    if (key !== undefined) {
      const hit = this.cache.get(view!.id, key);
      if (hit) {
        this.stats.queries++;
        this.stats.answered++;
        reply(serveAnswer(hit, msg.readUInt16BE(0), tcp));
        return;
      }
    }

    const incoming = parseQuery(msg);
    if (incoming.kind === "drop") {
      this.stats.dropped++;
      return;
    }
    if (incoming.kind === "error") {
      this.stats.errors++;
      reply(incoming.packet);
      return;
    }
    this.stats.queries++;
    const q = incoming.query;
    const refused = refuseIfNotRoundTrip(msg, q);
    if (refused) {
      this.stats.errors++;
      if (refused.kind === "error") reply(refused.packet);
      return;
    }
    const name = normalizeName(q.name);
    if (!index || !view) {
      // No directory yet: drover-shaped names get SERVFAIL (clients retry), never a wrong NXDOMAIN.
      if (inDroverDomain(name) || !name.includes(".")) reply(encodeServfail(q));
      else this.forwardTo(msg, q, reply);
      return;
    }
    const inClass = q.class === "IN" || q.class === "ANY";
    const res = resolveIn(index, view, name, inClass ? q.type : "");
    if (res.kind === "forward") {
      this.forwardTo(msg, q, reply);
      return;
    }
    const rcode = res.kind === "nxdomain" ? RCODE.NXDOMAIN : RCODE.NOERROR;
    const ips = res.kind === "answer" ? res.ips : [];
    this.stats.answered++;
    const e = encodeAnswer(q, rcode, ips, this.options.ttlSeconds);
    if (key !== undefined && idIndependent(msg)) this.cache.set(view.id, key, e);
    reply(serveAnswer(e, q.id, tcp));
  }

  private forwardTo(msg: Buffer, q: Query, reply: Reply): void {
    this.stats.forwarded++;
    this.options.forward(msg, q, reply);
  }
}

/** A query whose decoding does not depend on its id: the condition for caching its answer by the rest of its bytes. */
function idIndependent(msg: Buffer): boolean {
  try {
    decodeIdIndependent(msg);
    return true;
  } catch {
    return false;
  }
}
