import * as net from "net";
import type { Reply } from "./handler";

export interface TcpDnsOptions {
  address: string;
  port: number;
  /** Called once per framed message; `reply` may be called later (forwarded names) or never. */
  onMessage: (msg: Buffer, sourceIp: string, reply: Reply) => void;
  /** Connections open at once; further ones are closed as they come (default 256). */
  maxConnections?: number;
  /** A connection with nothing to read for this long is closed (RFC 7766 §6.2.3; default 10 s). */
  idleMs?: number;
  /** A listening server handed over by the process that served before (agent/dns/daemon): used instead of listening anew. */
  adopt?: net.Server;
}

export interface TcpDnsListener {
  readonly port: number;
  /** Open connections right now (tests check that none leak). */
  connections(): number;
  /** The listening server, to hand over to a successor process. */
  readonly server: net.Server;
  close(): Promise<void>;
}

/** Replies queued to a client that does not read: beyond this the connection is dropped (bounded memory). */
const MAX_QUEUED_BYTES = 1 << 20;
/** The 2-byte length prefix of RFC 1035 §4.2.2. */
const LENGTH_BYTES = 2;

/**
 * DNS over TCP: each message is preceded by its length (RFC 1035 §4.2.2); several may be
 * pipelined on one connection and answered in any order (RFC 7766 §6.2.1.1). Memory per
 * connection is bounded: at most one partial message (≤ 64 KiB) is buffered, and replies
 * queued to a client that does not read are capped.
 */
export function listenTcp(options: TcpDnsOptions): Promise<TcpDnsListener> {
  const sockets = new Set<net.Socket>();
  const idleMs = options.idleMs ?? 10_000;
  const onConnection = (socket: net.Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.setTimeout(idleMs, () => socket.destroy());
    const raw = socket.remoteAddress ?? "";
    const source = raw.startsWith("::ffff:") ? raw.slice(7) : raw;
    const reply: Reply = (packet) => {
      if (socket.destroyed || !socket.writable) return; // the client left before a forwarded answer came
      if (packet.length > 0xffff) return;
      if (socket.writableLength > MAX_QUEUED_BYTES) {
        socket.destroy();
        return;
      }
      const framed = Buffer.allocUnsafe(LENGTH_BYTES + packet.length);
      framed.writeUInt16BE(packet.length, 0);
      packet.copy(framed, LENGTH_BYTES);
      socket.write(framed);
    };
    let pending: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (buf.length >= LENGTH_BYTES) {
        const len = buf.readUInt16BE(0);
        if (buf.length < LENGTH_BYTES + len) break;
        // A copy: the handler may keep the message (forwarding) while `buf` is reused.
        const msg = Buffer.from(buf.subarray(LENGTH_BYTES, LENGTH_BYTES + len));
        buf = buf.subarray(LENGTH_BYTES + len);
        options.onMessage(msg, source, reply);
        if (socket.destroyed) return;
      }
      pending = Buffer.from(buf); // at most one partial message: < 2 + 65,535 bytes
    });
  };
  const server = options.adopt ?? net.createServer({ noDelay: true });
  server.on("connection", onConnection);
  server.maxConnections = options.maxConnections ?? 256;
  const listener = (): TcpDnsListener => {
    server.on("error", () => { /* per-connection errors are handled on the sockets */ });
    const addr = server.address() as net.AddressInfo;
    return {
      port: addr.port,
      server,
      connections: () => sockets.size,
      close: () => new Promise<void>((done) => {
        server.close(() => done());
        for (const s of sockets) s.destroy();
      }),
    };
  };
  if (options.adopt) return Promise.resolve(listener());
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.address, port: options.port }, () => {
      server.off("error", reject);
      resolve(listener());
    });
  });
}
