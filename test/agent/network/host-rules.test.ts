import t from "tap";
import { planChain, planChainRemoval, planDnsAddress, planRoutes, splitRule, wantedRules } from "../../../agent/network/host-rules";

// Rule, route and address plans from real `iptables -S` / `ip` listings, pure.
const cidr = "10.42.0.0/16";
const [nat, fwd] = wantedRules(cidr, "DOCKER-USER");
const ourNat = `-A POSTROUTING ${nat.args.join(" ")}`;
const dockerMasq = "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE";

t.test("the exemption and the forward rule are tagged and exact", async (t) => {
  t.equal(ourNat, "-A POSTROUTING -s 10.42.0.0/16 -d 10.42.0.0/16 -m comment --comment drover -j RETURN");
  t.same([fwd.table, fwd.chain, fwd.args.join(" ")], ["filter", "DOCKER-USER", "-s 10.42.0.0/16 -d 10.42.0.0/16 -m comment --comment drover -j ACCEPT"]);
});

t.test("missing rules are inserted at the top", async (t) => {
  const listing = `-P POSTROUTING ACCEPT\n${dockerMasq}\n`;
  t.same(planChain("nat", "POSTROUTING", listing, [nat.args]), [["-t", "nat", "-I", "POSTROUTING", "1", ...nat.args]]);
});

t.test("rules already first are left alone (no duplicates)", async (t) => {
  const listing = `-P POSTROUTING ACCEPT\n${ourNat}\n${dockerMasq}\n`;
  t.same(planChain("nat", "POSTROUTING", listing, [nat.args]), []);
});

t.test("a rule pushed down by dockerd is moved back to the top", async (t) => {
  const listing = `-P POSTROUTING ACCEPT\n-A POSTROUTING -s 10.42.1.0/24 ! -o drover0 -j MASQUERADE\n${ourNat}\n${dockerMasq}\n`;
  t.same(planChain("nat", "POSTROUTING", listing, [nat.args]), [
    ["-t", "nat", "-D", "POSTROUTING", ...nat.args],
    ["-t", "nat", "-I", "POSTROUTING", "1", ...nat.args],
  ]);
});

t.test("a rule for an old range is removed; other chains' stale rules too", async (t) => {
  const old = "-A DOCKER-USER -s 10.99.0.0/16 -d 10.99.0.0/16 -m comment --comment drover -j ACCEPT";
  const listing = `-N DOCKER-USER\n${old}\n-A DOCKER-USER -j RETURN\n`;
  const plan = planChain("filter", "DOCKER-USER", listing, [fwd.args]);
  t.same(plan, [
    ["-t", "filter", "-D", "DOCKER-USER", "-s", "10.99.0.0/16", "-d", "10.99.0.0/16", "-m", "comment", "--comment", "drover", "-j", "ACCEPT"],
    ["-t", "filter", "-I", "DOCKER-USER", "1", ...fwd.args],
  ]);
  t.same(planChain("filter", "FORWARD", `-P FORWARD DROP\n-A FORWARD ${fwd.args.join(" ").replace("DOCKER-USER", "FORWARD")}\n`, []).length, 1, "a forward rule left in FORWARD is deleted");
  t.same(planChainRemoval("filter", "DOCKER-USER", listing).length, 1, "teardown deletes only drover's rule");
  t.same(planChainRemoval("filter", "DOCKER-USER", "-A DOCKER-USER -m comment --comment droverx -j RETURN\n"), [], "a look-alike comment is not ours");
});

t.test("quoted comments split into words", async (t) => {
  t.same(splitRule('-A X -m comment --comment "a b" -j RETURN'), ["-A", "X", "-m", "comment", "--comment", "a b", "-j", "RETURN"]);
});

t.test("the blackhole route is added once and an old one removed", async (t) => {
  t.same(planRoutes(cidr, ""), [["route", "replace", "blackhole", cidr, "proto", "213"]]);
  t.same(planRoutes(cidr, "blackhole 10.42.0.0/16 \n"), []);
  t.same(planRoutes(cidr, "blackhole 10.9.0.0/16 \n"), [["route", "del", "blackhole", "10.9.0.0/16", "proto", "213"], ["route", "replace", "blackhole", cidr, "proto", "213"]]);
  t.same(planRoutes(undefined, "blackhole 10.42.0.0/16 \n"), [["route", "del", "blackhole", cidr, "proto", "213"]], "teardown removes it");
});

t.test("the DNS address is added when missing and removed at teardown", async (t) => {
  const without = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n";
  const withIt = without + "1: lo    inet 169.254.169.250/32 scope global lo\\       valid_lft forever preferred_lft forever\n";
  t.same(planDnsAddress(without, true), [["addr", "add", "169.254.169.250/32", "dev", "lo"]]);
  t.same(planDnsAddress(withIt, true), []);
  t.same(planDnsAddress(withIt, false), [["addr", "del", "169.254.169.250/32", "dev", "lo"]]);
  t.same(planDnsAddress(without, false), []);
});
