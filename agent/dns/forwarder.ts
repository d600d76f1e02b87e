import { randomFillSync } from "crypto";
import * as dgram from "dgram";
import * as dnsPacket from "dns-packet";
import { encodeServfail, udpLimit } from "./answers";
import { ForwardCache } from "./forward-cache";
import type { Query } from "./query";
import { literalLookup, parseUpstream, Upstream } from "./upstream";
import { decodeIdIndependent, FLAG, HEADER_BYTES, RCODE, questionLength } from "./wire";

export interface ForwarderOptions {
  /** "ip", "ip:port" or "[ipv6]:port"; tried in order, as libc does. */
  upstreams: string[];
  /** How long one upstream gets before the next is tried. */
  timeoutMs: number;
  /** Entries of the upstream-answer cache; 0 turns it off. */
  cacheSize: number;
  /** Distinct questions outstanding upstream; beyond this, SERVFAIL at once (bounded memory under a flood). */
  maxPending?: number;
}

export interface ForwarderStats {
  sent: number;
  answered: number;
  cacheHits: number;
  coalesced: number;
  servfail: number;
}

interface Waiter {
  query: Query;
  /** The client's question bytes, echoed back exactly (a client may check the case). */
  question: Buffer;
  reply: (packet: Buffer) => void;
}

interface Pending {
  key: string;
  /** The first client's query, re-sent with our own id to each upstream in turn. */
  msg: Buffer;
  query: Query;
  waiters: Waiter[];
  attempt: number;
  upstream?: Upstream;
  id: number;
  timer?: NodeJS.Timeout;
}

/**
 * Forwards questions that are not drover's to the host's resolvers. One question is asked
 * upstream once at a time however many containers ask it (coalescing); answers are cached
 * by their TTL. Every upstream answer is checked against what was asked (id, source
 * address and port, question) before anyone sees it: a random 16-bit id per attempt
 * is the spoofing defence on the one ephemeral port of each socket.
 */
export class Forwarder {
  readonly stats: ForwarderStats = { sent: 0, answered: 0, cacheHits: 0, coalesced: 0, servfail: 0 };
  private readonly upstreams: Upstream[];
  private readonly cache: ForwardCache;
  private readonly inflight = new Map<string, Pending>();
  private readonly byId = new Map<number, Pending>();
  private readonly sockets = new Map<4 | 6, dgram.Socket>();
  private readonly attempts: number;
  private ids = new Uint16Array(256);
  private nextId = this.ids.length;
  private closed = false;

  private constructor(private readonly options: ForwarderOptions) {
    this.upstreams = options.upstreams.map(parseUpstream);
    this.cache = new ForwardCache(options.cacheSize);
    // Every upstream once; a lone upstream twice, as one lost datagram should not fail a lookup.
    this.attempts = Math.min(4, Math.max(2, this.upstreams.length));
  }

  static async create(options: ForwarderOptions): Promise<Forwarder> {
    const f = new Forwarder(options);
    for (const family of new Set(f.upstreams.map((u) => u.family))) {
      const socket = dgram.createSocket({ type: family === 4 ? "udp4" : "udp6", lookup: literalLookup(family) });
      socket.on("message", (msg, rinfo) => f.onUpstreamMessage(msg, rinfo));
      socket.on("error", () => { /* ICMP errors surface here on some systems; the attempt timer handles them */ });
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(0, () => { socket.off("error", reject); resolve(); });
      });
      f.sockets.set(family, socket);
    }
    return f;
  }

  get cacheSize(): number {
    return this.cache.size;
  }

  /** `msg` is the client's raw query (kept, so EDNS options travel upstream unchanged). */
  forward(msg: Buffer, query: Query, reply: (packet: Buffer) => void): void {
    const key = ForwardCache.key(query.name, query.type, query.class, query.ednsPayload !== undefined);
    const question = msg.subarray(HEADER_BYTES, HEADER_BYTES + query.questionLength);
    const hit = this.cache.get(key, query.id, udpLimit(query));
    if (hit) {
      this.stats.cacheHits++;
      reply(withQuestion(hit, question));
      return;
    }
    const waiter: Waiter = { query, question: Buffer.from(question), reply };
    const pending = this.inflight.get(key);
    if (pending) {
      this.stats.coalesced++;
      if (pending.waiters.length < 256) pending.waiters.push(waiter);
      return;
    }
    if (this.upstreams.length === 0 || this.closed || this.inflight.size >= (this.options.maxPending ?? 4096)) {
      this.stats.servfail++;
      reply(encodeServfail(query));
      return;
    }
    const p: Pending = { key, msg: Buffer.from(msg), query, waiters: [waiter], attempt: 0, id: -1 };
    this.inflight.set(key, p);
    this.send(p);
  }

  close(): void {
    this.closed = true;
    for (const p of this.inflight.values()) clearTimeout(p.timer);
    this.inflight.clear();
    this.byId.clear();
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }

  private send(p: Pending): void {
    const upstream = this.upstreams[p.attempt % this.upstreams.length];
    p.upstream = upstream;
    p.id = this.freshId();
    this.byId.set(p.id, p);
    const out = Buffer.from(p.msg);
    out.writeUInt16BE(p.id, 0);
    this.stats.sent++;
    this.sockets.get(upstream.family)?.send(out, upstream.port, upstream.host, () => { /* errors: the timer retries */ });
    p.timer = setTimeout(() => this.retryOrFail(p), this.options.timeoutMs);
  }

  private retryOrFail(p: Pending): void {
    clearTimeout(p.timer);
    this.byId.delete(p.id);
    if (this.closed) return;
    p.attempt++;
    if (p.attempt < this.attempts) {
      this.send(p);
      return;
    }
    this.inflight.delete(p.key);
    for (const w of p.waiters) {
      this.stats.servfail++;
      w.reply(encodeServfail(w.query));
    }
  }

  private onUpstreamMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < HEADER_BYTES) return;
    const p = this.byId.get(msg.readUInt16BE(0));
    if (!p || !p.upstream || rinfo.port !== p.upstream.port || !sameHost(rinfo.address, p.upstream.host)) return;
    let decoded: dnsPacket.DecodedPacket;
    try {
      decoded = decodeIdIndependent(msg); // we give it other ids: it must decode whatever the id
    } catch {
      return; // garbage: wait for a real answer or the timer
    }
    const q = decoded.questions?.[0];
    if (!(msg.readUInt16BE(2) & FLAG.QR) || decoded.questions?.length !== 1 || !q
      || q.name.toLowerCase() !== p.query.name.toLowerCase() || q.type !== p.query.type || String(q.class) !== p.query.class) return;
    const rcode = msg.readUInt16BE(2) & 0xf;
    // Like libc: a server that refuses or fails is skipped for the next one, if any is left.
    if ((rcode === RCODE.SERVFAIL || rcode === RCODE.REFUSED || rcode === RCODE.NOTIMP)
      && p.attempt + 1 < this.upstreams.length) {
      this.retryOrFail(p);
      return;
    }
    clearTimeout(p.timer);
    this.byId.delete(p.id);
    this.inflight.delete(p.key);
    this.stats.answered++;
    this.cache.put(p.key, msg);
    for (const w of p.waiters) {
      const out = Buffer.from(msg);
      out.writeUInt16BE(w.query.id, 0);
      w.reply(withQuestion(out, w.question));
    }
  }

  /** A random id not in use: the only thing an off-path spoofer must guess. */
  private freshId(): number {
    for (;;) {
      if (this.nextId >= this.ids.length) {
        randomFillSync(this.ids);
        this.nextId = 0;
      }
      const id = this.ids[this.nextId++];
      if (!this.byId.has(id)) return id;
    }
  }
}

/**
 * Puts the client's own question bytes into a response whose question differs from it only
 * in letter case (a client using 0x20 randomization checks them). Anything else, or a
 * result that no longer decodes, leaves the response as the upstream sent it.
 */
function withQuestion(packet: Buffer, question: Buffer): Buffer {
  try {
    if (questionLength(packet) !== question.length) return packet;
    const theirs = packet.subarray(HEADER_BYTES, HEADER_BYTES + question.length);
    if (theirs.equals(question) || !equalIgnoringAsciiCase(theirs, question)) return packet;
    const out = Buffer.from(packet);
    question.copy(out, HEADER_BYTES);
    dnsPacket.decode(out);
    return out;
  } catch {
    return packet;
  }
}

function equalIgnoringAsciiCase(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] >= 0x41 && a[i] <= 0x5a ? a[i] | 0x20 : a[i];
    const y = b[i] >= 0x41 && b[i] <= 0x5a ? b[i] | 0x20 : b[i];
    if (x !== y) return false;
  }
  return true;
}

function sameHost(a: string, b: string): boolean {
  return a === b || a === b.split("%")[0] || a === `::ffff:${b}`;
}
