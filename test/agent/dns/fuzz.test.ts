import t, { Test } from "tap";
import * as dnsPacket from "dns-packet";
import { DnsHandler, Transport } from "../../../agent/dns/handler";
import { Forwarder } from "../../../agent/dns/forwarder";
import { ForwardCache } from "../../../agent/dns/forward-cache";
import { ip, sampleDirectory, withBigService } from "./support/directory";
import { aRecords } from "./support/fake-upstream";
import { prng } from "../../support/prng";
import { queryPacket } from "./support/udp";

// Thousands of hostile datagrams straight into the handler (no socket, so it is fast and
// deterministic). Property: a datagram that is not a decodable query gets no reply; one that
// is gets exactly one well-formed reply with its id; nothing ever throws inside.
const SEED = Number(process.env.DNS_FUZZ_SEED ?? 20240611);

const names = ["api", "API", "frontend.web.drover.internal", "big", "db", "example.com", "drover.internal", ".", "a.b.c.d.e.f.g", "x".repeat(63)];
const types: dnsPacket.RecordType[] = ["A", "AAAA", "MX", "TXT", "SRV", "PTR"];

function corpus(): Buffer[] {
  const out: Buffer[] = [];
  for (const name of names) {
    for (const type of types) {
      out.push(queryPacket(name, type, { id: 0x1234 }));
      out.push(queryPacket(name, type, { id: 0x4321, edns: 4096 }));
    }
    out.push(queryPacket(name, "A", { id: 7, edns: 100 }));
    const chaos = dnsPacket.encode({ type: "query", id: 8, questions: [{ name, type: "TXT", class: "CH" }] });
    out.push(chaos);
  }
  return out;
}

interface Failure { why: string; hex: string }

async function makeHandler(answerCacheSize: number): Promise<{ handler: DnsHandler; forwarder: Forwarder }> {
  // A forwarder without upstreams answers SERVFAIL at once: the forward path runs synchronously.
  const forwarder = await Forwarder.create({ upstreams: [], timeoutMs: 10, cacheSize: 10 });
  const handler = new DnsHandler({ ttlSeconds: 5, answerCacheSize, forward: (m, q, r) => forwarder.forward(m, q, r) });
  const dir = withBigService(sampleDirectory(), 300);
  dir.instances.push({ id: "me", ip: "127.0.0.1", serviceId: "sv-fe", running: true });
  handler.setDirectory(dir);
  return { handler, forwarder };
}

/** The policy, restated: a decodable query (QR=0) with at most 8 records besides its question. */
function isQuery(msg: Buffer): boolean {
  if (msg.length < 12 || msg.readUInt16BE(2) & 0x8000) return false;
  if (msg.readUInt16BE(4) > 8 || msg.readUInt16BE(6) + msg.readUInt16BE(8) + msg.readUInt16BE(10) > 8) return false;
  try {
    dnsPacket.decode(msg);
    return true;
  } catch {
    return false;
  }
}

/** Returns whether the handler replied (so a test can show its cases reached past the first checks). */
function check(handler: DnsHandler, msg: Buffer, source: string, failures: Failure[], transport: Transport): boolean {
  const replies: Buffer[] = [];
  try {
    handler.handle(msg, source, (r) => replies.push(r), transport);
  } catch (err) {
    failures.push({ why: `threw ${(err as Error).message}`, hex: msg.toString("hex") });
    return false;
  }
  const expectReply = isQuery(msg);
  if (!expectReply) {
    if (replies.length) failures.push({ why: "replied to garbage", hex: msg.toString("hex") });
    return replies.length > 0;
  }
  if (replies.length !== 1) {
    failures.push({ why: `${replies.length} replies to a query`, hex: msg.toString("hex") });
    return replies.length > 0;
  }
  const reply = replies[0];
  try {
    const p = dnsPacket.decode(reply);
    if (p.id !== msg.readUInt16BE(0)) failures.push({ why: "id not echoed", hex: msg.toString("hex") });
    if (!p.flag_qr) failures.push({ why: "reply without QR", hex: msg.toString("hex") });
    // UDP: never beyond the EDNS size we advertise; TCP: whatever a 16-bit length can frame.
    if (reply.length > (transport === "udp" ? 1232 : 65535)) failures.push({ why: `reply of ${reply.length} bytes over ${transport}`, hex: msg.toString("hex") });
  } catch (err) {
    failures.push({ why: `malformed reply: ${(err as Error).message}`, hex: msg.toString("hex") });
  }
  return true;
}

function report(t: Test, failures: Failure[], cases: number, replied: number, handler: DnsHandler): void {
  t.equal(failures.length, 0, `${cases} cases (${replied} replied to), seed ${SEED}` + (failures.length ? `: ${JSON.stringify(failures.slice(0, 5))}` : ""));
  t.ok(replied > 0, "some cases got far enough for a reply");
  t.equal(handler.stats.crashes, 0, "no exception was caught inside the handler");
}

// Every case through both transports: TCP messages reach the same handler, with other size limits.
for (const [answerCacheSize, transport] of [[1000, "udp"], [0, "udp"], [1000, "tcp"], [0, "tcp"]] as const) {
  const mode = `${answerCacheSize ? "cached answers" : "encoded per query"}, ${transport}`;

  t.test(`${mode}: random bytes`, async (t) => {
    const { handler, forwarder } = await makeHandler(answerCacheSize);
    t.teardown(() => forwarder.close());
    const rand = prng(SEED);
    const failures: Failure[] = [];
    let replied = 0;
    const cases = 20_000;
    for (let i = 0; i < cases; i++) {
      const len = Math.floor(rand() * (i % 10 === 0 ? 600 : 64));
      const msg = Buffer.alloc(len);
      for (let k = 0; k < len; k++) msg[k] = Math.floor(rand() * 256);
      // Half of them with a plausible header (QR=0, opcode 0, one question, at most one
      // additional record) to get past the first checks.
      if (i % 2 === 0 && len >= 12) { msg[2] &= 0x07; msg.writeUInt16BE(1, 4); msg.writeUInt32BE(0, 6); msg.writeUInt16BE(i % 4 ? 0 : 1, 10); }
      if (check(handler, msg, i % 3 ? "127.0.0.1" : ip.api1, failures, transport)) replied++;
    }
    report(t, failures, cases, replied, handler);
  });

  t.test(`${mode}: every truncation of valid queries`, async (t) => {
    const { handler, forwarder } = await makeHandler(answerCacheSize);
    t.teardown(() => forwarder.close());
    const failures: Failure[] = [];
    let cases = 0;
    let replied = 0;
    for (const q of corpus()) {
      for (let len = 0; len <= q.length; len++, cases++) if (check(handler, q.subarray(0, len), "127.0.0.1", failures, transport)) replied++;
    }
    report(t, failures, cases, replied, handler);
  });

  t.test(`${mode}: bit-flipped valid queries`, async (t) => {
    const { handler, forwarder } = await makeHandler(answerCacheSize);
    t.teardown(() => forwarder.close());
    const rand = prng(SEED + 1);
    const queries = corpus();
    const failures: Failure[] = [];
    let replied = 0;
    const cases = 20_000;
    for (let i = 0; i < cases; i++) {
      const msg = Buffer.from(queries[i % queries.length]);
      const flips = 1 + Math.floor(rand() * 8);
      for (let f = 0; f < flips; f++) {
        const bit = Math.floor(rand() * msg.length * 8);
        msg[bit >> 3] ^= 1 << (bit & 7);
      }
      if (check(handler, msg, i % 2 ? "127.0.0.1" : "10.9.9.9", failures, transport)) replied++;
    }
    report(t, failures, cases, replied, handler);
  });
}

t.test("bit-flipped upstream answers never come out of the cache malformed", async (t) => {
  const rand = prng(SEED + 2);
  const cache = new ForwardCache(100);
  const q = dnsPacket.decode(queryPacket("cache.example"));
  const clean = dnsPacket.encode({
    ...aRecords(q, ["192.0.2.1", "192.0.2.2", "192.0.2.3"], 120),
    authorities: [{ name: "example", type: "NS", ttl: 300, data: "ns1.example" }],
    additionals: [{ name: "ns1.example", type: "A", ttl: 300, data: "192.0.2.53" }],
    id: 1, type: "response",
  });
  let stored = 0;
  const bad: string[] = [];
  const cases = 5000;
  for (let i = 0; i < cases; i++) {
    const msg = Buffer.from(clean);
    for (let f = 0, n = 1 + Math.floor(rand() * 4); f < n; f++) {
      const bit = Math.floor(rand() * msg.length * 8);
      msg[bit >> 3] ^= 1 << (bit & 7);
    }
    try {
      dnsPacket.decode(msg);
    } catch {
      continue; // the forwarder drops what does not decode before the cache sees it
    }
    try {
      cache.put(`k${i}`, msg);
    } catch (err) {
      bad.push(`put threw ${(err as Error).message}: ${msg.toString("hex")}`);
      continue;
    }
    const out = cache.get(`k${i}`, 0xabcd, 65535);
    if (!out) continue;
    stored++;
    try {
      if (dnsPacket.decode(out).id !== 0xabcd) bad.push(msg.toString("hex"));
    } catch {
      bad.push(msg.toString("hex"));
    }
  }
  t.ok(stored > 100, `many mutated answers were cacheable (${stored})`);
  t.same(bad.slice(0, 5), [], `${cases} cases, seed ${SEED + 2}`);
});
