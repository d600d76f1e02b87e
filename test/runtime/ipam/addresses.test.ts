import t from "tap";
import { AddressPool, allocateInstanceIp, gatewayOf } from "../../../runtime/ipam";

const value = (r: ReturnType<typeof allocateInstanceIp>) => (r.ok ? r.value : r.error.message);

t.test("skips network and gateway, lowest free first, in sequence", async (t) => {
  t.equal(gatewayOf("10.42.3.0/24"), "10.42.3.1");
  t.equal(value(allocateInstanceIp("10.42.3.0/24", [], "h1")), "10.42.3.2");
  t.equal(value(allocateInstanceIp("10.42.3.0/24", ["10.42.3.2", "10.42.3.4"], "h1")), "10.42.3.3", "fills a gap");
  const pool = new AddressPool(["10.42.3.3", "10.42.4.2"]);
  t.same([1, 2, 3].map(() => value(pool.take("10.42.3.0/24", "h1"))), ["10.42.3.2", "10.42.3.4", "10.42.3.5"]);
  t.equal(value(pool.take("10.42.4.0/24", "h2")), "10.42.4.3", "each subnet has its own sequence");
});

t.test("a /26 host subnet inside the network", async (t) => {
  const pool = new AddressPool([]);
  t.equal(gatewayOf("172.16.16.64/26"), "172.16.16.65");
  t.equal(value(pool.take("172.16.16.64/26", "h1")), "172.16.16.66");
});

t.test("never the broadcast address; exhaustion names host and subnet", async (t) => {
  const pool = new AddressPool([]);
  t.equal(value(pool.take("10.42.0.0/30", "h1")), "10.42.0.2", "a /30 has one container address");
  const r = pool.take("10.42.0.0/30", "h1");
  t.notOk(r.ok);
  if (!r.ok) {
    t.equal(r.error.code, "Unplaceable");
    t.equal(r.error.message, "host h1: subnet 10.42.0.0/30 has no free address (all 1 in use)");
  }
  const small = new AddressPool([]);
  const got = Array.from({ length: 6 }, () => value(small.take("10.42.0.8/29", "h2")));
  t.same(got.slice(0, 5), ["10.42.0.10", "10.42.0.11", "10.42.0.12", "10.42.0.13", "10.42.0.14"]);
  t.match(got[5], /^host h2: subnet 10.42.0.8\/29 has no free address/);
});

t.test("an unusable subnet is reported, not thrown", async (t) => {
  t.match(value(allocateInstanceIp("10.42.0.1/24", [], "h1")), /host h1: subnet "10.42.0.1\/24" is not a usable IPv4 CIDR/);
  t.match(value(allocateInstanceIp("10.42.0.0/31", [], "h1")), /not a usable/);
});
