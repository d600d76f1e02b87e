import * as dgram from "dgram";
import type * as net from "net";
import { isIPv6 } from "net";
import type { Logger } from "../log";
import type { DnsDirectory } from "./directory";
import { Forwarder, ForwarderStats } from "./forwarder";
import { DnsHandler, HandlerStats } from "./handler";
import { listenTcp, TcpDnsListener } from "./tcp";
import { literalLookup, parseUpstream } from "./upstream";

export interface DnsServerOptions {
  /** Where to listen: 169.254.169.250 on a host; 127.0.0.1 in tests. */
  address: string;
  /** 53 by default; 0 picks a free port (tests). */
  port?: number;
  /** The directory to serve from the start; later ones come through `setDirectory`. */
  directory?: DnsDirectory;
  /** The host's resolvers, e.g. `readHostUpstreams()`; "ip", "ip:port" or "[ipv6]:port". */
  upstreams: string[];
  /**
   * TTL of drover's own answers, 1 s by default. Short on purpose: instances come and go
   * on every upgrade, reschedule and health flip, and a client that caches (a JVM, nginx, a
   * glibc nscd) must let go of a dead address within the drain of a stopping instance
   * (runtime/reconcile/drain.ts) — Rancher's 600 s kept clients
   * on gone containers for ten minutes. Asking again is cheap: the server is on the host.
   */
  ttlSeconds?: number;
  /** Entries of the cache of upstream answers (1000 by default; 0 turns it off). */
  cacheSize?: number;
  /** Entries of encoded drover answers (10,000 by default; 0 encodes every answer afresh). */
  answerCacheSize?: number;
  /** How long each upstream gets before the next is tried (1000 ms by default). */
  upstreamTimeoutMs?: number;
  /** Also serve TCP on the same port (true by default): clients retry there after a TC answer. */
  tcp?: boolean;
  /** A TCP connection idle this long is closed (10 s by default). */
  tcpIdleMs?: number;
  log?: Logger;
  /**
   * Sockets already bound, handed over by the process that served before (agent/dns/daemon):
   * served as they are, so no query finds the port closed while one process replaces another.
   */
  adopt?: DnsSockets;
}

/** The bound sockets of a responder: what one process hands to its successor. */
export interface DnsSockets {
  udp: dgram.Socket;
  tcp?: net.Server;
}

export interface DnsServerStats extends HandlerStats {
  upstream: ForwarderStats;
  forwardCacheEntries: number;
  /** TCP connections open now. */
  tcpConnections: number;
}

export interface DnsServer {
  readonly address: string;
  readonly port: number;
  /** Replaces the directory wholesale; answers change with the next query. */
  setDirectory(directory: DnsDirectory): void;
  stats(): DnsServerStats;
  /** The bound sockets (to hand over to a successor; the caller then closes its copies). */
  sockets(): DnsSockets;
  close(): Promise<void>;
}

/**
 * drover's DNS responder over UDP and TCP on one port, one handler for both. A drover
 * answer too big for the asker's UDP limit goes out as a random subset marked TC; the
 * client's TCP retry gets every address. (Forwarded names are asked upstream over UDP only:
 * an upstream's TC answer is relayed as it came.)
 */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  // Port 0 (tests): UDP picks a free port; TCP may find that number taken, so try again.
  for (let attempt = 0; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      if (options.port !== 0 || attempt >= 4 || (err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    }
  }
}

async function startOnce(options: DnsServerOptions): Promise<DnsServer> {
  const port = options.port ?? 53;
  // Never forward to ourselves: that would loop until every attempt timed out.
  const upstreams = options.upstreams.filter((u) => {
    const up = parseUpstream(u);
    return !(up.host === options.address && up.port === port);
  });
  const forwarder = await Forwarder.create({
    upstreams,
    timeoutMs: options.upstreamTimeoutMs ?? 1000,
    cacheSize: options.cacheSize ?? 1000,
  });
  const handler = new DnsHandler({
    ttlSeconds: options.ttlSeconds ?? 1,
    answerCacheSize: options.answerCacheSize ?? 10_000,
    forward: (msg, q, reply) => forwarder.forward(msg, q, reply),
  });
  if (options.directory) handler.setDirectory(options.directory);

  const family = isIPv6(options.address) ? 6 : 4;
  const socket = options.adopt?.udp ?? dgram.createSocket({ type: family === 6 ? "udp6" : "udp4", lookup: literalLookup(family) });
  socket.on("error", (err) => options.log?.warn("dns socket error", { err }));
  // DROVER_DNS_TRACE=1 logs every datagram's fate (id, asker's port, answered or not): for
  // hunting a question lost across a socket handover, never on in production.
  const trace = process.env.DROVER_DNS_TRACE === "1" ? options.log : undefined;
  socket.on("message", (msg, rinfo) => {
    // On an IPv6 socket an IPv4 container shows up as ::ffff:a.b.c.d; the directory has a.b.c.d.
    const source = family === 6 && rinfo.address.startsWith("::ffff:") ? rinfo.address.slice(7) : rinfo.address;
    const id = msg.length >= 2 ? msg.readUInt16BE(0) : -1;
    trace?.info("dns datagram in", { id, from: rinfo.port });
    handler.handle(msg, source, (packet) => {
      try {
        socket.send(packet, rinfo.port, rinfo.address, (err) => trace?.info("dns datagram out", { id, to: rinfo.port, error: err?.message }));
      } catch (err) {
        // the socket closed while an upstream answer was on its way
        trace?.info("dns datagram not sent", { id, to: rinfo.port, error: (err as Error).message });
      }
    });
  });
  try {
    if (!options.adopt) await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(port, options.address, () => { socket.off("error", reject); resolve(); });
    });
  } catch (err) {
    forwarder.close();
    try {
      socket.close(); // a caller that retries (HostDns) must not pile up sockets
    } catch {
      // already closed by the failed bind
    }
    throw err;
  }
  try {
    socket.setRecvBufferSize(4 * 1024 * 1024); // absorb bursts (e.g. every container starting at once)
  } catch {
    // the kernel's limit applies
  }
  const bound = socket.address();
  let tcp: TcpDnsListener | undefined;
  if (options.adopt ? options.adopt.tcp !== undefined : (options.tcp ?? true)) {
    try {
      tcp = await listenTcp({
        address: options.address,
        port: bound.port,
        idleMs: options.tcpIdleMs,
        adopt: options.adopt?.tcp,
        onMessage: (msg, source, reply) => handler.handle(msg, source, reply, "tcp"),
      });
    } catch (err) {
      forwarder.close();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      throw err;
    }
  }
  options.log?.info(options.adopt ? "dns responder serving handed-over sockets" : "dns responder listening", { address: bound.address, port: bound.port, tcp: tcp !== undefined, upstreams });

  return {
    address: bound.address,
    port: bound.port,
    setDirectory: (directory) => handler.setDirectory(directory),
    sockets: () => ({ udp: socket, ...(tcp ? { tcp: tcp.server } : {}) }),
    stats: () => ({
      ...handler.stats, upstream: { ...forwarder.stats }, forwardCacheEntries: forwarder.cacheSize, tcpConnections: tcp?.connections() ?? 0,
    }),
    close: async () => {
      forwarder.close();
      await Promise.all([
        new Promise<void>((resolve) => socket.close(() => resolve())),
        tcp?.close(),
      ]);
    },
  };
}
