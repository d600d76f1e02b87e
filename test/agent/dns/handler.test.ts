import t from "tap";
import * as dnsPacket from "dns-packet";
import { DnsHandler } from "../../../agent/dns/handler";
import type { Query } from "../../../agent/dns/query";
import { ip, sampleDirectory } from "./support/directory";
import { queryPacket } from "./support/udp";

// The handler without sockets: what goes out for what comes in, and what is forwarded.
function setup(answerCacheSize = 1000) {
  const forwarded: Query[] = [];
  const handler = new DnsHandler({ ttlSeconds: 5, answerCacheSize, forward: (_m, q) => forwarded.push(q) });
  handler.setDirectory(sampleDirectory());
  const ask = (source: string, msg: Buffer) => {
    const replies: Buffer[] = [];
    handler.handle(msg, source, (r) => replies.push(r));
    return replies.map((r) => dnsPacket.decode(r) as dnsPacket.DecodedPacket & { rcode: string });
  };
  return { handler, forwarded, ask };
}

const ips = (p: dnsPacket.DecodedPacket) => (p.answers ?? []).map((a) => (a as dnsPacket.StringAnswer).data).sort();

t.test("identical query bytes from different containers get each one's own view", async (t) => {
  const { ask } = setup();
  const msg = queryPacket("db", "A", { id: 1 });
  for (let round = 0; round < 2; round++) {
    t.same(ips(ask(ip.api1, msg)[0]), [ip.db1], "stack-wide discovery in backend");
    t.equal(ask(ip.fe1, msg)[0].rcode, "NXDOMAIN", "frontend has no link to db");
    t.equal(ask("10.9.9.9", msg)[0].rcode, "NXDOMAIN", "unknown source");
  }
});

t.test("a repeated query is answered from the cache with its own id and flags", async (t) => {
  const { ask, handler } = setup();
  const first = ask(ip.fe1, queryPacket("api", "A", { id: 100 }))[0];
  const second = ask(ip.fe1, queryPacket("api", "A", { id: 200 }))[0];
  t.equal(first.id, 100);
  t.equal(second.id, 200);
  t.same(ips(second), [ip.api1]);
  const noRd = queryPacket("api", "A", { id: 300 });
  noRd.writeUInt16BE(0, 2); // RD off: other bytes, so another cache entry
  const third = ask(ip.fe1, noRd)[0];
  t.equal(third.flag_rd, false, "RD echoed as asked");
  t.equal(handler.stats.answered, 3);
});

t.test("forwarded questions keep the client's raw query; drover names are never forwarded", async (t) => {
  const { ask, forwarded } = setup();
  t.same(ask(ip.fe1, queryPacket("example.com", "A", { id: 5, edns: 1232 })), [], "the reply comes later, from the forwarder");
  t.equal(forwarded.length, 1);
  t.equal(forwarded[0].name, "example.com");
  t.equal(forwarded[0].ednsPayload, 1232);
  for (const name of ["db", "worker", "nothing.web.drover.internal", "backend"]) ask(ip.fe1, queryPacket(name));
  t.equal(forwarded.length, 1);
});

t.test("a name dns-packet cannot re-encode is refused with the question echoed as sent", async (t) => {
  const { ask, forwarded } = setup();
  // One label "api.backend" (a dot inside a label): it would decode as the drover name api.backend.
  const msg = Buffer.concat([
    Buffer.from([0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    Buffer.from([11]), Buffer.from("api.backend"), Buffer.from([0, 0, 1, 0, 1]),
  ]);
  const [r] = ask(ip.fe1, msg);
  t.equal(r.rcode, "REFUSED");
  t.equal(r.id, 9);
  t.equal(forwarded.length, 0);
});

t.test("other classes than IN: NODATA for drover names, forwarded otherwise", async (t) => {
  const { ask, forwarded } = setup();
  const chaos = (name: string) => dnsPacket.encode({ type: "query", id: 3, questions: [{ name, type: "TXT", class: "CH" }] });
  const [r] = ask(ip.fe1, chaos("api"));
  t.equal(r.rcode, "NOERROR");
  t.same(r.answers, []);
  ask(ip.fe1, chaos("version.bind"));
  t.equal(forwarded.length, 1);
});
