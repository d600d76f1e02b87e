import t from "tap";
import { allocateHostSubnet, SubnetPool } from "../../../runtime/ipam";

const net = { cidr: "10.42.0.0/16", hostSubnetPrefix: 24 };
const value = (r: ReturnType<typeof allocateHostSubnet>) => (r.ok ? r.value : r.error.message);

t.test("lowest free subnet first, in sequence", async (t) => {
  t.equal(value(allocateHostSubnet(net, [], "h1")), "10.42.0.0/24");
  t.equal(value(allocateHostSubnet(net, ["10.42.0.0/24", "10.42.2.0/24"], "h1")), "10.42.1.0/24", "fills a gap");
  const pool = new SubnetPool(net, ["10.42.1.0/24"]);
  t.same([1, 2, 3].map(() => value(pool.take("h"))), ["10.42.0.0/24", "10.42.2.0/24", "10.42.3.0/24"]);
});

t.test("odd prefixes: a /20 network with /26 hosts", async (t) => {
  const pool = new SubnetPool({ cidr: "172.16.16.0/20", hostSubnetPrefix: 26 }, ["172.16.16.64/26"]);
  t.same([1, 2, 3].map(() => value(pool.take("h"))), ["172.16.16.0/26", "172.16.16.128/26", "172.16.16.192/26"]);
  t.equal(value(pool.take("h")), "172.16.17.0/26");
});

t.test("in-use blocks of other sizes or outside the network still block what they overlap", async (t) => {
  t.equal(value(allocateHostSubnet(net, ["10.42.0.0/23", "10.41.0.0/24", "garbage"], "h1")), "10.42.2.0/24");
  t.equal(value(allocateHostSubnet(net, ["10.42.0.128/25"], "h1")), "10.42.1.0/24");
});

t.test("exhaustion names the host and the network", async (t) => {
  const pool = new SubnetPool({ cidr: "10.42.0.0/23", hostSubnetPrefix: 24 }, []);
  t.same([value(pool.take("h1")), value(pool.take("h2"))], ["10.42.0.0/24", "10.42.1.0/24"]);
  const r = pool.take("h3");
  t.notOk(r.ok);
  if (!r.ok) {
    t.equal(r.error.code, "Unplaceable");
    t.equal(r.error.message, "host h3: no free /24 subnet left in 10.42.0.0/23 (2 of 2 in use)");
  }
});

t.test("an invalid network allocates nothing and says why", async (t) => {
  const r = allocateHostSubnet({ cidr: "10.42.0.0/16", hostSubnetPrefix: 8 }, [], "h1");
  t.notOk(r.ok);
  t.match(value(r), /host h1: .*network.hostSubnetPrefix/);
});
