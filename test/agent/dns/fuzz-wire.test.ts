import t from "tap";
import * as dgram from "dgram";
import * as dnsPacket from "dns-packet";
import { setFlagsFromString } from "v8";
import { runInNewContext } from "vm";
import { startDnsServer, DnsServer } from "../../../agent/dns/server";
import { prng } from "../../support/prng";
import { waitFor } from "../../support/wait";
import { ip, sampleDirectory, withBigService } from "./support/directory";
import { askTcp, framed, TcpClient } from "./support/tcp";
import { ask, queryPacket, repliesBeforeProbe } from "./support/udp";

// Hostile bytes through real sockets, UDP and TCP, against one running responder. fuzz.test.ts
// checks each reply of the handler; this checks the server around it: after every batch it
// still answers valid queries on both transports, no exception escaped (crashes = 0), no
// TCP connection is left open, and memory does not grow from one round to the next.
const SEED = Number(process.env.DNS_FUZZ_SEED ?? 20240611);
const ROUNDS = 4;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const valid = [
  queryPacket("api", "A", { id: 1 }), queryPacket("big", "A", { id: 2, edns: 4096 }), queryPacket("cache", "AAAA", { id: 3 }),
  queryPacket("frontend.web.drover.internal", "A", { id: 4 }), queryPacket("example.com", "MX", { id: 5 }),
];

function randomBytes(rand: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

function mutate(rand: () => number, msg: Buffer): Buffer {
  const out = Buffer.from(msg);
  for (let f = 0, n = 1 + Math.floor(rand() * 6); f < n; f++) {
    const bit = Math.floor(rand() * out.length * 8);
    out[bit >> 3] ^= 1 << (bit & 7);
  }
  return out;
}

/** One round of UDP garbage in batches, each batch followed by a probe that must be answered. */
async function udpRound(s: DnsServer, rand: () => number): Promise<number> {
  const sock = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", () => resolve()));
  let sent = 0;
  try {
    for (let batch = 0; batch < 4; batch++) {
      for (let i = 0; i < 250; i++, sent++) {
        const q = valid[i % valid.length];
        const kind = i % 3;
        const msg = kind === 0 ? randomBytes(rand, Math.floor(rand() * 700))
          : kind === 1 ? q.subarray(0, Math.floor(rand() * q.length))
          : mutate(rand, q);
        sock.send(msg, s.port, "127.0.0.1");
      }
      // Datagrams from one socket are handled in order: the probe's answer means the batch is through.
      await repliesBeforeProbe(s.port, queryPacket("api", "A"));
    }
  } finally {
    sock.close();
  }
  return sent;
}

/** One round of TCP garbage: many connections, each fed a hostile stream, then dropped or left to the server. */
async function tcpRound(s: DnsServer, rand: () => number): Promise<number> {
  let conns = 0;
  for (let i = 0; i < 120; i++, conns++) {
    const c = await TcpClient.connect(s.port);
    const q = valid[i % valid.length];
    const kind = i % 4;
    let bytes: Buffer;
    if (kind === 0) bytes = randomBytes(rand, Math.floor(rand() * 300)); // any length prefix, any body
    else if (kind === 1) bytes = framed(q).subarray(0, Math.floor(rand() * (q.length + 2))); // a message cut short
    else if (kind === 2) bytes = Buffer.concat([framed(mutate(rand, q)), framed(randomBytes(rand, Math.floor(rand() * 100)))]);
    else {
      // Garbage frames between two valid ones: framing keeps the stream in step, both valid ones are answered.
      bytes = Buffer.concat([framed(q), framed(randomBytes(rand, 40)), framed(q.subarray(0, 5)), framed(Buffer.alloc(0)), framed(q)]);
    }
    await c.write(bytes).catch(() => undefined); // the server may already have closed it
    if (kind === 3) {
      const replies = await c.waitReplies(2);
      for (const r of replies) if (dnsPacket.decode(r).id !== q.readUInt16BE(0)) throw new Error("a valid query between garbage got a wrong reply");
    }
    c.close();
  }
  return conns;
}

t.test("hostile UDP and TCP traffic: still serving, no crash, no leak", async (t) => {
  const directory = withBigService(sampleDirectory(), 300);
  directory.instances.push({ id: "me", ip: "127.0.0.1", serviceId: "sv-fe", running: true });
  const s = await startDnsServer({ address: "127.0.0.1", port: 0, directory, upstreams: [], tcpIdleMs: 2000 });
  t.teardown(() => s.close());
  const rand = prng(SEED);
  const heaps: number[] = [];
  let datagrams = 0;
  let connections = 0;
  for (let round = 0; round < ROUNDS; round++) {
    datagrams += await udpRound(s, rand);
    connections += await tcpRound(s, rand);
    await waitFor(() => s.stats().tcpConnections === 0, { what: "every fuzz connection closed" });
    t.same((await ask(s.port, "api")).ips, [ip.api1], `round ${round}: UDP still answers`);
    t.same((await askTcp(s.port, "api")).ips, [ip.api1], `round ${round}: TCP still answers`);
    heaps.push(heapAfterGc());
  }
  const st = s.stats();
  t.equal(st.crashes, 0, "no exception was caught inside the handler");
  t.ok(st.dropped > 0 && st.errors > 0 && st.answered > 0, `garbage dropped (${st.dropped}), bad queries refused (${st.errors}), valid ones answered (${st.answered})`);
  // Round 0 warms caches and JIT; after it the heap must stay flat (each later round does the same work).
  const growth = heaps[ROUNDS - 1] - heaps[1];
  t.ok(growth < 4 * 1024 * 1024, `heap after rounds: ${heaps.map((h) => (h / 1048576).toFixed(1)).join(" ")} MiB (growth ${(growth / 1048576).toFixed(2)} MiB after warm-up)`);
  t.comment(`${datagrams} datagrams and ${connections} TCP connections, seed ${SEED}`);
});
