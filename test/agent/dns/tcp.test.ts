import t from "tap";
import * as dnsPacket from "dns-packet";
import { startDnsServer, DnsServer, DnsServerOptions } from "../../../agent/dns/server";
import type { DnsDirectory } from "../../../agent/dns/directory";
import { waitFor } from "../../support/wait";
import { ip, sampleDirectory, withBigService } from "./support/directory";
import { aRecords, startFakeUpstream } from "./support/fake-upstream";
import { askTcp, framed, TcpClient } from "./support/tcp";
import { ask, queryPacket } from "./support/udp";

// DNS over TCP on the UDP port (RFC 7766), and TC on UDP answers that do not fit. The test
// client's source address 127.0.0.1 is a frontend container.
const asFrontend = (d: DnsDirectory): DnsDirectory => ({
  ...d,
  instances: [...d.instances, { id: "me", ip: "127.0.0.1", serviceId: "sv-fe", running: true }],
});

type Tap = { teardown(fn: () => unknown): void };

async function server(t: Tap, over: Partial<DnsServerOptions> = {}): Promise<DnsServer> {
  const s = await startDnsServer({ address: "127.0.0.1", port: 0, directory: asFrontend(sampleDirectory()), upstreams: [], ...over });
  t.teardown(() => s.close());
  return s;
}

t.test("TCP answers drover names like UDP", async (t) => {
  const s = await server(t);
  const r = await askTcp(s.port, "api", "A", { id: 777 });
  t.equal(r.packet.id, 777, "id echoed");
  t.ok(r.packet.flag_aa, "authoritative");
  t.same(r.ips, [ip.api1]);
  t.equal((await askTcp(s.port, "db")).packet.rcode, "NXDOMAIN", "an unlinked name: NXDOMAIN over TCP too");
  t.same((await ask(s.port, "api")).ips, [ip.api1], "UDP on the same port");
});

t.test("forwarded names over TCP go upstream and come back framed", async (t) => {
  const up = await startFakeUpstream((q) => aRecords(q, ["192.0.2.7"], 60));
  t.teardown(() => up.close());
  const s = await server(t, { upstreams: [`127.0.0.1:${up.port}`] });
  const r = await askTcp(s.port, "example.net", "A", { id: 99 });
  t.equal(r.packet.id, 99);
  t.same(r.ips, ["192.0.2.7"]);
  t.equal(up.received.length, 1);
});

t.test("pipelined queries and a message split into single bytes", async (t) => {
  const s = await server(t);
  const c = await TcpClient.connect(s.port);
  t.teardown(() => c.close());
  const ids = [11, 12, 13];
  await c.write(Buffer.concat([framed(queryPacket("api", "A", { id: 11 })), framed(queryPacket("cache", "A", { id: 12 })), framed(queryPacket("db", "A", { id: 13 }))]));
  const replies = (await c.waitReplies(3)).map((r) => dnsPacket.decode(r) as dnsPacket.DecodedPacket & { rcode?: string });
  t.same(replies.map((r) => r.id).sort(), ids, "three queries in one segment, three replies");
  t.same(replies.find((r) => r.id === 12)!.answers!.map((a) => (a as dnsPacket.StringAnswer).data), [ip.redis1]);

  const bytes = framed(queryPacket("api.backend.drover.internal", "A", { id: 14 }));
  for (let i = 0; i < bytes.length; i++) await c.write(bytes.subarray(i, i + 1));
  const [, , , last] = await c.waitReplies(4);
  const p = dnsPacket.decode(last);
  t.equal(p.id, 14, "reassembled from one-byte writes");
  t.same(p.answers!.map((a) => (a as dnsPacket.StringAnswer).data), [ip.api1]);
});

for (const answerCacheSize of [10_000, 0]) {
  const mode = answerCacheSize ? "cached answers" : "encoded per query";
  t.test(`${mode}: a UDP answer that does not fit is a subset marked TC; TCP carries all of it`, async (t) => {
    const s = await server(t, { directory: asFrontend(withBigService(sampleDirectory(), 100)), answerCacheSize });
    for (let i = 0; i < 3; i++) {
      const udp = await ask(s.port, "big");
      t.ok(udp.raw.length <= 512, `plain UDP fits 512 bytes (${udp.raw.length})`);
      t.ok(udp.packet.flag_tc, "TC set: the client should retry over TCP");
      t.ok(udp.ips.length > 0 && udp.ips.length < 100, `a usable subset (${udp.ips.length})`);
      const edns = await ask(s.port, "big", "A", { edns: 4096 });
      t.ok(edns.raw.length <= 1232, `EDNS fits 1232 bytes (${edns.raw.length})`);
      t.ok(edns.packet.flag_tc, "TC set with EDNS too when the answer is cut");
      const tcp = await askTcp(s.port, "big");
      t.equal(tcp.ips.length, 100, "every address over TCP");
      t.equal(new Set(tcp.ips).size, 100, "no duplicates");
      t.notOk(tcp.packet.flag_tc, "no TC over TCP");
    }
    const small = await ask(s.port, "api");
    t.notOk(small.packet.flag_tc, "an answer that fits has no TC");
  });
}

t.test("idle connections are closed; none is left open", async (t) => {
  const s = await server(t, { tcpIdleMs: 200 });
  const c = await TcpClient.connect(s.port);
  await waitFor(() => s.stats().tcpConnections === 1, { what: "the server to see the connection" });
  await c.write(Buffer.from([0x00, 0x40, 1, 2, 3])); // half a message, then silence
  await c.waitClosed(5000);
  t.ok(c.closed, "closed by the server");
  await waitFor(() => s.stats().tcpConnections === 0, { what: "connection count back to 0" });
  t.same((await askTcp(s.port, "api")).ips, [ip.api1], "still serving");
});

t.test("close() ends open connections", async (t) => {
  const s = await startDnsServer({ address: "127.0.0.1", port: 0, directory: asFrontend(sampleDirectory()), upstreams: [] });
  const c = await TcpClient.connect(s.port);
  await waitFor(() => s.stats().tcpConnections === 1, { what: "the server to see the connection" });
  await s.close();
  await c.waitClosed();
  t.ok(c.closed);
});
