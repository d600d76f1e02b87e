import t from "tap";
import { blockSize, formatCidr, intToIpv4, ipv4ToInt, lastAddress, parseCidr } from "../../../runtime/ipam";
import { isIPv4 } from "net";

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

// ipv4ToInt/intToIpv4 read and write digits in place now; the same answers as split/reduce and join.
t.test("IPv4 text and numbers: the same answers as before, both ways", async (t) => {
  const before = {
    toInt: (addr: string) => (isIPv4(addr) ? addr.split(".").reduce((n, octet) => n * 256 + Number(octet), 0) : undefined),
    toText: (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join("."),
  };
  let seed = 11;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const numbers = [0, 1, 255, 256, 2 ** 24, 2 ** 32 - 1, 0x0a2a0102, ...Array.from({ length: 500 }, () => Math.floor(rnd() * 2 ** 32))];
  for (const n of numbers) {
    const text = intToIpv4(n);
    if (text !== before.toText(n) || ipv4ToInt(text) !== n) t.fail(`${n}: ${text} -> ${ipv4ToInt(text)}`);
  }
  t.pass(`${numbers.length} numbers round-trip`);
  for (const bad of ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "a.b.c.d", "1..2.3", "::1", "1.2.3.-4"]) {
    t.equal(ipv4ToInt(bad), undefined, JSON.stringify(bad));
  }
  t.equal(ipv4ToInt("10.42.1.2"), before.toInt("10.42.1.2"));
});
