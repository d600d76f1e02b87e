import t from "tap";
import * as dnsPacket from "dns-packet";
import { startDnsServer, DnsServer, DnsServerOptions } from "../../../agent/dns/server";
import { ForwardCache } from "../../../agent/dns/forward-cache";
import { waitFor } from "../../support/wait";
import { ip, sampleDirectory } from "./support/directory";
import { aRecords, FakeUpstream, startFakeUpstream } from "./support/fake-upstream";
import { ask, exchange, queryPacket } from "./support/udp";

type Teardown = { teardown(fn: () => unknown): void };

async function upstream(t: Teardown, answer: Parameters<typeof startFakeUpstream>[0]): Promise<FakeUpstream> {
  const u = await startFakeUpstream(answer);
  t.teardown(() => u.close());
  return u;
}

async function server(t: Teardown, over: Partial<DnsServerOptions>): Promise<DnsServer> {
  const directory = sampleDirectory();
  directory.instances.push({ id: "me", ip: "127.0.0.1", serviceId: "sv-fe", running: true });
  const s = await startDnsServer({ address: "127.0.0.1", port: 0, directory, upstreams: [], ...over });
  t.teardown(() => s.close());
  return s;
}

const example = (q: dnsPacket.DecodedPacket) => aRecords(q, ["192.0.2.10"], 60);
const silent = () => undefined;

t.test("other names are forwarded; the second query is a cache hit", async (t) => {
  const up = await upstream(t, example);
  const s = await server(t, { upstreams: [`127.0.0.1:${up.port}`] });
  const first = await ask(s.port, "example.com", "A", { id: 1 });
  t.same(first.ips, ["192.0.2.10"]);
  t.equal(first.packet.id, 1);
  const second = await ask(s.port, "EXAMPLE.com", "A", { id: 2 });
  t.same(second.ips, ["192.0.2.10"]);
  t.equal(second.packet.id, 2, "the cached answer carries the new id");
  t.equal(second.packet.questions![0].name, "EXAMPLE.com", "and the asker's own question");
  t.equal(up.received.length, 1, "the upstream saw one query");
  t.equal(s.stats().upstream.cacheHits, 1);
  t.same((await ask(s.port, "api")).ips, [ip.api1], "drover names never reach the upstream");
  t.equal((await ask(s.port, "db")).packet.rcode, "NXDOMAIN");
  t.equal(up.received.length, 1);
});

t.test("concurrent askers of one name share one upstream query", async (t) => {
  const held: dnsPacket.DecodedPacket[] = [];
  const up = await upstream(t, (q) => { held.push(q); return undefined; });
  const s = await server(t, { upstreams: [`127.0.0.1:${up.port}`], upstreamTimeoutMs: 5000 });
  const answers = Promise.all([1, 2, 3].map((id) => ask(s.port, "example.org", "A", { id })));
  await waitFor(() => s.stats().upstream.coalesced === 2, { what: "three askers to reach the server" });
  t.equal(up.received.length, 1, "one query upstream");
  // Answer the held query by hand, from the upstream's own socket (the forwarder checks the source).
  const q = held[0];
  await up.sendToLastAsker(dnsPacket.encode({ ...aRecords(q, ["192.0.2.20"], 30), id: q.id, type: "response" }));
  const got = await answers;
  t.same(got.map((a) => a.packet.id), [1, 2, 3]);
  t.same(got.map((a) => a.ips), [["192.0.2.20"], ["192.0.2.20"], ["192.0.2.20"]]);
});

t.test("no upstream answers: SERVFAIL after each was tried", async (t) => {
  const a = await upstream(t, silent);
  const b = await upstream(t, silent);
  const s = await server(t, { upstreams: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], upstreamTimeoutMs: 50 });
  const r = await ask(s.port, "slow.example", "A");
  t.equal(r.packet.rcode, "SERVFAIL");
  t.same(r.packet.questions, [{ name: "slow.example", type: "A", class: "IN" }]);
  t.equal(a.received.length, 1);
  t.equal(b.received.length, 1);
  t.not(a.received[0].id, b.received[0].id, "each attempt has its own id");
  const again = await ask(s.port, "slow.example", "A");
  t.equal(again.packet.rcode, "SERVFAIL", "failures are not cached");
  t.equal(a.received.length, 2);
});

t.test("a silent or failing first upstream falls through to the next", async (t) => {
  const dead = await upstream(t, silent);
  const good = await upstream(t, example);
  const s1 = await server(t, { upstreams: [`127.0.0.1:${dead.port}`, `127.0.0.1:${good.port}`], upstreamTimeoutMs: 50 });
  t.same((await ask(s1.port, "example.net")).ips, ["192.0.2.10"]);

  const failing = await upstream(t, (q) => ({ flags: 2 /* SERVFAIL */, questions: q.questions }));
  const s2 = await server(t, { upstreams: [`127.0.0.1:${failing.port}`, `127.0.0.1:${good.port}`], upstreamTimeoutMs: 5000 });
  t.same((await ask(s2.port, "example.net")).ips, ["192.0.2.10"], "SERVFAIL from the first: ask the next at once");
});

t.test("no upstream configured: SERVFAIL at once", async (t) => {
  const s = await server(t, { upstreams: [] });
  t.equal((await ask(s.port, "example.com")).packet.rcode, "SERVFAIL");
});

t.test("an answer that does not match the question is ignored", async (t) => {
  const liar = await upstream(t, (q) => aRecords({ ...q, questions: [{ name: "evil.example", type: "A", class: "IN" }] }, ["6.6.6.6"], 60));
  const s = await server(t, { upstreams: [`127.0.0.1:${liar.port}`], upstreamTimeoutMs: 50 });
  t.equal((await ask(s.port, "bank.example")).packet.rcode, "SERVFAIL");
});

t.test("NXDOMAIN from upstream is relayed and cached by its SOA minimum", async (t) => {
  const up = await upstream(t, (q) => ({
    flags: 3, questions: q.questions,
    authorities: [{ name: "example", type: "SOA", ttl: 300, data: { mname: "ns.example", rname: "h.example", minimum: 30 } }],
  }));
  const s = await server(t, { upstreams: [`127.0.0.1:${up.port}`] });
  t.equal((await ask(s.port, "missing.example")).packet.rcode, "NXDOMAIN");
  t.equal((await ask(s.port, "missing.example")).packet.rcode, "NXDOMAIN");
  t.equal(up.received.length, 1);
});

t.test("the client's EDNS record travels upstream unchanged", async (t) => {
  const up = await upstream(t, example);
  const s = await server(t, { upstreams: [`127.0.0.1:${up.port}`] });
  await exchange(s.port, queryPacket("edns.example", "A", { edns: 1400 }));
  const opt = up.received[0].additionals?.find((a) => a.type === "OPT") as dnsPacket.OptAnswer | undefined;
  t.equal(opt?.udpPayloadSize, 1400);
});

t.test("cached answers age: TTLs count down and the entry expires", async (t) => {
  let now = 1_000_000;
  const cache = new ForwardCache(10, () => now);
  const q = dnsPacket.decode(queryPacket("aging.example"));
  const packet = dnsPacket.encode({ ...aRecords(q, ["192.0.2.1", "192.0.2.2"], 10), id: 5, type: "response" });
  cache.put("k", packet);
  now += 3_500;
  const hit = dnsPacket.decode(cache.get("k", 77, 512)!);
  t.equal(hit.id, 77);
  t.same(hit.answers!.map((a) => (a as { ttl: number }).ttl), [7, 7], "3.5 s later: 10 → 7");
  now += 6_500;
  t.equal(cache.get("k", 78, 512), undefined, "gone at the TTL");
});

t.test("the forward cache is bounded and refuses what it cannot age safely", async (t) => {
  const cache = new ForwardCache(2);
  const put = (name: string, ttl: number, flags = 0) => {
    const q = dnsPacket.decode(queryPacket(name));
    const p = dnsPacket.encode({ ...aRecords(q, ["192.0.2.1"], ttl), flags, id: 1, type: "response" });
    cache.put(name, p);
  };
  put("a", 60); put("b", 60); put("c", 60);
  t.equal(cache.size, 2);
  t.equal(cache.get("a", 1, 512), undefined, "the oldest went first");
  put("zero", 0);
  t.equal(cache.get("zero", 1, 512), undefined, "TTL 0 is not cached");
  put("tc", 60, dnsPacket.TRUNCATED_RESPONSE);
  t.equal(cache.get("tc", 1, 512), undefined, "truncated answers are not cached");
  t.equal(cache.get("b", 1, 10), undefined, "too big for the asker's UDP limit: treated as a miss");
});

