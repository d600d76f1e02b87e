import * as net from "net";
import * as dnsPacket from "dns-packet";
import { AskOptions, queryPacket } from "./udp";

/** `msg` with its 2-byte length prefix (RFC 1035 §4.2.2). */
export function framed(msg: Buffer): Buffer {
  const out = Buffer.alloc(2 + msg.length);
  out.writeUInt16BE(msg.length, 0);
  msg.copy(out, 2);
  return out;
}

/**
 * A TCP connection to the responder that collects framed replies as they come. `write`
 * sends raw bytes (framing is the caller's, so tests can split or garble it).
 */
export class TcpClient {
  readonly replies: Buffer[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private readonly waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      while (this.buf.length >= 2 && this.buf.length >= 2 + this.buf.readUInt16BE(0)) {
        const len = this.buf.readUInt16BE(0);
        this.replies.push(this.buf.subarray(2, 2 + len));
        this.buf = this.buf.subarray(2 + len);
      }
      this.wake();
    });
    socket.on("close", () => { this.closed = true; this.wake(); });
    socket.on("error", () => undefined); // a reset by the server shows as `closed`
  }

  static connect(port: number, host = "127.0.0.1"): Promise<TcpClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host }, () => { s.off("error", reject); resolve(new TcpClient(s)); });
      s.once("error", reject);
    });
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  /** Resolves when `n` replies are in, or rejects at the deadline or if the connection closes first. */
  async waitReplies(n: number, timeoutMs = 3000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length < n) {
      if (this.closed) throw new Error(`connection closed after ${this.replies.length} of ${n} replies`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.replies.length} of ${n} replies within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    return this.replies.slice(0, n);
  }

  /** Resolves once the server closed the connection (or rejects at the deadline). */
  async waitClosed(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`connection still open after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** One query over a fresh TCP connection; the decoded reply and its A addresses. */
export async function askTcp(port: number, name: string, type: dnsPacket.RecordType = "A", opts: AskOptions = {}) {
  const c = await TcpClient.connect(port);
  try {
    await c.write(framed(queryPacket(name, type, opts)));
    const [raw] = await c.waitReplies(1, opts.timeoutMs);
    const packet = dnsPacket.decode(raw) as dnsPacket.DecodedPacket & { rcode?: string };
    const ips = (packet.answers ?? []).filter((a) => a.type === "A").map((a) => (a as dnsPacket.StringAnswer).data);
    return { raw, packet, ips };
  } finally {
    c.close();
  }
}
