import t from "tap";
import { blockSize, formatCidr, intToIpv4, ipv4ToInt, lastAddress, parseCidr } from "../../../runtime/ipam";

t.test("addresses round-trip as unsigned 32-bit integers", async (t) => {
  t.equal(ipv4ToInt("0.0.0.0"), 0);
  t.equal(ipv4ToInt("255.255.255.255"), 2 ** 32 - 1);
  t.equal(ipv4ToInt("10.42.0.1"), 10 * 2 ** 24 + 42 * 2 ** 16 + 1);
  for (const ip of ["10.42.0.1", "192.168.255.254", "255.255.255.255", "128.0.0.0"]) t.equal(intToIpv4(ipv4ToInt(ip)!), ip);
  for (const bad of ["10.42.0", "10.42.0.256", "::1", "a.b.c.d", "10.42.0.01"]) t.equal(ipv4ToInt(bad), undefined, bad);
});

t.test("CIDRs parse only with no host bits set", async (t) => {
  t.same(parseCidr("10.42.0.0/16"), { base: ipv4ToInt("10.42.0.0"), prefix: 16 });
  t.equal(formatCidr(parseCidr("10.42.64.0/20")!), "10.42.64.0/20");
  t.equal(parseCidr("10.42.0.1/16"), undefined, "host bits");
  t.equal(parseCidr("10.42.0.0/33"), undefined);
  t.equal(parseCidr("10.42.0.0"), undefined);
  t.equal(parseCidr("10.42.0.0/ 16"), undefined);
  t.equal(blockSize(24), 256);
  t.equal(intToIpv4(lastAddress(parseCidr("10.42.0.64/26")!)), "10.42.0.127");
  t.equal(intToIpv4(lastAddress(parseCidr("255.255.255.0/24")!)), "255.255.255.255", "top of the space stays unsigned");
});
