import * as dgram from "dgram";
import * as dnsPacket from "dns-packet";

export interface FakeUpstream {
  port: number;
  /** Every query it received, decoded. */
  received: dnsPacket.DecodedPacket[];
  /** Sends `packet` from this upstream's socket to whoever asked last (for held answers). */
  sendToLastAsker(packet: Buffer): Promise<void>;
  close(): Promise<void>;
}

/**
 * A UDP DNS server on 127.0.0.1 for forwarding tests. `answer` builds the response to a
 * query (its id is set for it); returning undefined makes the upstream stay silent.
 */
export async function startFakeUpstream(answer: (q: dnsPacket.DecodedPacket) => dnsPacket.Packet | undefined): Promise<FakeUpstream> {
  const sock = dgram.createSocket("udp4");
  const received: dnsPacket.DecodedPacket[] = [];
  let last: dgram.RemoteInfo | undefined;
  sock.on("message", (msg, rinfo) => {
    last = rinfo;
    const q = dnsPacket.decode(msg);
    received.push(q);
    const r = answer(q);
    if (r) sock.send(dnsPacket.encode({ ...r, id: q.id, type: "response" }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", () => resolve()));
  return {
    port: sock.address().port,
    received,
    sendToLastAsker: (packet) => new Promise<void>((resolve, reject) => {
      if (!last) return reject(new Error("nobody asked yet"));
      sock.send(packet, last.port, last.address, (err) => (err ? reject(err) : resolve()));
    }),
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}

/** An answer of A records for the question, as a recursive resolver would send it. */
export function aRecords(q: dnsPacket.DecodedPacket, ips: string[], ttl: number): dnsPacket.Packet {
  const question = q.questions![0];
  return {
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [question],
    answers: ips.map((data) => ({ name: question.name, type: "A" as const, class: "IN" as const, ttl, data })),
  };
}
