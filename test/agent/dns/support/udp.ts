import * as dgram from "dgram";
import * as dnsPacket from "dns-packet";

/** Sends one datagram from 127.0.0.1 and resolves with the first datagram back (or rejects at the deadline). */
export function exchange(port: number, msg: Buffer, timeoutMs = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const timer = setTimeout(() => { sock.close(); reject(new Error(`no reply within ${timeoutMs} ms`)); }, timeoutMs);
    sock.on("message", (reply) => { clearTimeout(timer); sock.close(); resolve(reply); });
    sock.on("error", (err) => { clearTimeout(timer); sock.close(); reject(err); });
    sock.bind(0, "127.0.0.1", () => sock.send(msg, port, "127.0.0.1"));
  });
}

/**
 * Sends `msg`, then a probe query, from one socket; resolves with the replies that came
 * before the probe's answer. The server handles datagrams in order, so an empty list means
 * `msg` got no reply — shown without waiting a fixed time for nothing to happen.
 */
export function repliesBeforeProbe(port: number, msg: Buffer, timeoutMs = 3000): Promise<Buffer[]> {
  const probeId = 0xbeef;
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const before: Buffer[] = [];
    const timer = setTimeout(() => { sock.close(); reject(new Error(`probe not answered within ${timeoutMs} ms`)); }, timeoutMs);
    sock.on("message", (reply) => {
      if (reply.length >= 2 && reply.readUInt16BE(0) === probeId) {
        clearTimeout(timer);
        sock.close();
        resolve(before);
      } else before.push(reply);
    });
    sock.bind(0, "127.0.0.1", () => {
      sock.send(msg, port, "127.0.0.1");
      sock.send(queryPacket("probe.drover.internal", "A", { id: probeId }), port, "127.0.0.1");
    });
  });
}

export interface AskOptions {
  id?: number;
  /** Adds an OPT record advertising this UDP payload size. */
  edns?: number;
  timeoutMs?: number;
}

export function queryPacket(name: string, type: dnsPacket.RecordType = "A", opts: AskOptions = {}): Buffer {
  return dnsPacket.encode({
    type: "query",
    id: opts.id ?? Math.floor(Math.random() * 65536),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: "IN" }],
    additionals: opts.edns === undefined ? [] : [{
      name: ".", type: "OPT", udpPayloadSize: opts.edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [],
    }],
  });
}

export interface Answer {
  raw: Buffer;
  packet: dnsPacket.DecodedPacket & { rcode?: string };
  ips: string[];
}

export async function ask(port: number, name: string, type: dnsPacket.RecordType = "A", opts: AskOptions = {}): Promise<Answer> {
  const raw = await exchange(port, queryPacket(name, type, opts), opts.timeoutMs);
  const packet = dnsPacket.decode(raw) as Answer["packet"];
  const ips = (packet.answers ?? []).filter((a) => a.type === "A").map((a) => (a as dnsPacket.StringAnswer).data);
  return { raw, packet, ips };
}
