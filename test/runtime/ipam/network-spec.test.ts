import t from "tap";
import { validateNetworkSpec, withNetworkDefaults } from "../../../runtime/ipam";

const fields = (spec: Parameters<typeof validateNetworkSpec>[0]) => validateNetworkSpec(spec).map((e) => e.field);

t.test("valid specs, defaults filled in", async (t) => {
  t.same(validateNetworkSpec({}), []);
  t.same(validateNetworkSpec({ cidr: "10.42.0.0/16", hostSubnetPrefix: 24 }), []);
  t.same(validateNetworkSpec({ cidr: "172.16.0.0/20", hostSubnetPrefix: 26 }), []);
  t.same(validateNetworkSpec({ cidr: "10.0.0.0/8", hostSubnetPrefix: 30 }), []);
  t.same(withNetworkDefaults({}), { cidr: "10.42.0.0/16", hostSubnetPrefix: 24 });
  t.same(withNetworkDefaults({ cidr: "10.42.0.0/25" }), { cidr: "10.42.0.0/25", hostSubnetPrefix: 26 }, "a small network gets the next size down");
});

t.test("invalid CIDRs name network.cidr", async (t) => {
  for (const cidr of ["10.42.0.1/16", "10.42.0.0", "300.1.0.0/16", "10.0.0.0/7", "10.42.0.0/29", "fd00::/64", 42, ""]) {
    t.same(fields({ cidr }), ["network.cidr"], JSON.stringify(cidr));
  }
  const [e] = validateNetworkSpec({ cidr: "10.42.0.1/16" });
  t.match(e.message, /^expected an IPv4 CIDR with no host bits set, \/8 to \/28.*got "10.42.0.1\/16"$/);
});

t.test("the host prefix must be longer than the network's and at most 30", async (t) => {
  for (const hostSubnetPrefix of [16, 12, 31, 24.5, "24"]) {
    t.same(fields({ cidr: "10.42.0.0/16", hostSubnetPrefix }), ["network.hostSubnetPrefix"], JSON.stringify(hostSubnetPrefix));
  }
  t.match(validateNetworkSpec({ cidr: "10.42.0.0/16", hostSubnetPrefix: 12 })[0].message, /from 17 to 30, got 12/);
  t.same(fields({ cidr: "10.42.0.0/16", hostSubnetPrefix: 17 }), []);
  t.same(fields({ cidr: "bad", hostSubnetPrefix: 40 }), ["network.cidr", "network.hostSubnetPrefix"], "every problem at once");
});
