import t from "tap";
import * as dnsPacket from "dns-packet";
import { startDnsServer, DnsServer } from "../../../agent/dns/server";
import type { DnsDirectory } from "../../../agent/dns/directory";
import { ip, inst, sampleDirectory, withBigService } from "./support/directory";
import { ask, exchange, queryPacket, repliesBeforeProbe } from "./support/udp";

// Real UDP on 127.0.0.1; the test client's source address 127.0.0.1 is a frontend container.
const asFrontend = (d: DnsDirectory): DnsDirectory => ({
  ...d,
  instances: [...d.instances, { id: "me", ip: "127.0.0.1", serviceId: "sv-fe", running: true }],
});

async function server(t: Tap, directory?: DnsDirectory, over: Partial<Parameters<typeof startDnsServer>[0]> = {}): Promise<DnsServer> {
  const s = await startDnsServer({ address: "127.0.0.1", port: 0, directory, upstreams: [], ...over });
  t.teardown(() => s.close());
  return s;
}
type Tap = { teardown(fn: () => unknown): void };

for (const answerCacheSize of [10_000, 0]) {
  const mode = answerCacheSize ? "cached answers" : "encoded per query";
  t.test(`${mode}: a linked service resolves over UDP`, async (t) => {
    const s = await server(t, asFrontend(sampleDirectory()), { answerCacheSize });
    const r = await ask(s.port, "api", "A", { id: 4242 });
    t.equal(r.packet.id, 4242, "id echoed");
    t.equal(r.packet.type, "response");
    t.ok(r.packet.flag_aa, "authoritative");
    t.ok(r.packet.flag_rd, "RD echoed");
    t.same(r.ips, [ip.api1]);
    t.same(r.packet.questions, [{ name: "api", type: "A", class: "IN" }]);
    t.equal((r.packet.answers![0] as { ttl: number }).ttl, 1, "drover names have a 1 s TTL (the drain of a stopping instance)");

    const fq = await ask(s.port, "Api.Backend.Drover.Internal", "A");
    t.same(fq.ips, [ip.api1]);
    t.equal(fq.packet.questions![0].name, "Api.Backend.Drover.Internal", "the question is echoed as asked");
  });

  t.test(`${mode}: NXDOMAIN, NODATA and their SOA`, async (t) => {
    const s = await server(t, asFrontend(sampleDirectory()), { answerCacheSize });
    const nx = await ask(s.port, "db.backend.drover.internal");
    t.equal(nx.packet.rcode, "NXDOMAIN");
    t.equal(nx.packet.authorities?.[0]?.type, "SOA", "an SOA lets resolvers cache the negative answer briefly");
    const nxShort = await ask(s.port, "db");
    t.equal(nxShort.packet.rcode, "NXDOMAIN", "an unlinked service name is not forwarded");
    const aaaa = await ask(s.port, "api", "AAAA");
    t.equal(aaaa.packet.rcode, "NOERROR");
    t.same(aaaa.packet.answers, [], "AAAA for a drover name: empty NOERROR");
  });

  t.test(`${mode}: answers come in random order and are trimmed to fit UDP`, async (t) => {
    const s = await server(t, asFrontend(withBigService(sampleDirectory(), 100)), { answerCacheSize });
    const firsts = new Set<string>();
    const all = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const r = await ask(s.port, "big");
      t.ok(r.raw.length <= 512, "fits 512 bytes without EDNS");
      t.equal(new Set(r.ips).size, r.ips.length, "no duplicates");
      t.ok(r.ips.length >= 10, "as many as fit");
      r.ips.forEach((a) => all.add(a));
      firsts.add(r.ips[0]);
    }
    t.ok(firsts.size > 10, `first address varies (${firsts.size} different in 40 answers)`);
    t.ok(all.size > 50, `the subsets cover the service (${all.size} of 100 addresses seen)`);
    for (const a of all) t.match(a, /^10\.42\.[23]\./, "only the service's addresses");

    const edns = await ask(s.port, "big", "A", { edns: 4096 });
    t.ok(edns.raw.length <= 1232 && edns.raw.length > 512, `EDNS: up to 1232 bytes (${edns.raw.length})`);
    t.equal(edns.packet.additionals?.find((a) => a.type === "OPT")?.type, "OPT", "OPT answered with OPT");
  });
}

t.test("a new directory changes answers at once", async (t) => {
  const s = await server(t, asFrontend(sampleDirectory()));
  t.same((await ask(s.port, "api")).ips, [ip.api1]);
  const d = asFrontend(sampleDirectory());
  d.instances = d.instances.map((i) => (i.id === "api2" ? { ...i, healthy: true } : i.id === "api1" ? { ...i, running: false } : i));
  s.setDirectory(d);
  t.same((await ask(s.port, "api")).ips, [ip.api2], "the cached answer went with the old directory");
  t.same((await ask(s.port, "db")).packet.rcode, "NXDOMAIN");
  d.services = d.services.map((sv) => (sv.id === "sv-fe" ? { ...sv, links: { ...sv.links, db: "sv-db" } } : sv));
  s.setDirectory({ ...d });
  t.same((await ask(s.port, "db")).ips, [ip.db1], "a new link is visible on the next query");
});

t.test("without updates the last directory keeps serving", async (t) => {
  const s = await server(t, asFrontend(sampleDirectory()));
  t.throws(() => s.setDirectory(null as unknown as DnsDirectory), "a broken directory is refused");
  t.same((await ask(s.port, "api")).ips, [ip.api1], "the previous one still answers");
});

t.test("before any directory, drover names get SERVFAIL, not a wrong NXDOMAIN", async (t) => {
  const s = await server(t);
  t.equal((await ask(s.port, "api")).packet.rcode, "SERVFAIL");
  t.equal((await ask(s.port, "api.backend.drover.internal")).packet.rcode, "SERVFAIL");
  s.setDirectory(asFrontend(sampleDirectory()));
  t.same((await ask(s.port, "api")).ips, [ip.api1]);
});

t.test("a source the directory does not know gets NXDOMAIN for drover names", async (t) => {
  const d = sampleDirectory([inst("fe1", "sv-fe")]);
  const s = await server(t, d);
  t.equal((await ask(s.port, "api")).packet.rcode, "NXDOMAIN");
});

t.test("malformed and unsupported queries: dropped, FORMERR or NOTIMP", async (t) => {
  const s = await server(t, asFrontend(sampleDirectory()));
  const send = (buf: Buffer) => exchange(s.port, buf);

  t.same(await repliesBeforeProbe(s.port, Buffer.from([1, 2, 3])), [], "shorter than a header: no reply");
  const response = dnsPacket.encode({ type: "response", id: 7, questions: [{ name: "api", type: "A" }] });
  t.same(await repliesBeforeProbe(s.port, response), [], "a response (QR=1): no reply");
  const truncated = queryPacket("api").subarray(0, 15);
  t.same(await repliesBeforeProbe(s.port, truncated), [], "a truncated question: no reply");

  const two = dnsPacket.encode({ type: "query", id: 8, questions: [{ name: "api", type: "A" }, { name: "db", type: "A" }] });
  const formerr = dnsPacket.decode((await send(two))!) as dnsPacket.DecodedPacket & { rcode: string };
  t.equal(formerr.rcode, "FORMERR");
  t.equal(formerr.id, 8);
  const none = dnsPacket.encode({ type: "query", id: 9, questions: [] });
  t.equal((dnsPacket.decode((await send(none))!) as { rcode?: string }).rcode, "FORMERR", "no question: FORMERR");

  const notify = queryPacket("api", "A", { id: 10 });
  notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11), 2);
  const notimp = dnsPacket.decode((await send(notify))!) as dnsPacket.DecodedPacket & { rcode: string; opcode: string };
  t.equal(notimp.rcode, "NOTIMP");
  t.equal(notimp.opcode, "NOTIFY", "opcode echoed");
  t.equal(notimp.id, 10);

  t.same((await ask(s.port, "api")).ips, [ip.api1], "still serving");
  const st = s.stats();
  t.equal(st.dropped, 3);
  t.equal(st.errors, 3);
  t.equal(st.crashes, 0);
});
