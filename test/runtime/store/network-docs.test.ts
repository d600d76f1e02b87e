import t from "tap";
import type { DnsDirectory } from "../../../runtime/protocol/dns";
import { hostUserAclRules } from "../../../runtime/store/host-acl";
import { createEnv, droverError, host, storeFixture, streamEntries } from "./store-fixture";

// The environment-wide network documents: the pre-shared key and the DNS directory.

const directory = (ip: string): DnsDirectory => ({
  instances: [{ id: "i1", ip, serviceId: "sv1", running: true }],
  services: [{ id: "sv1", name: "web", stackId: "s1", links: {} }],
  stacks: [{ id: "s1", name: "app", stackWideDiscovery: false }],
});

t.test("setIpsec: the first key only once with onlyIfAbsent, rotation always; each bumps the revision and wakes the reconciler", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  const env = f.keys.env("e1");
  const rev0 = Number(await f.redis.get(env.rev));
  t.equal(await f.store.getIpsec("e1"), undefined);
  t.equal(await f.store.setIpsec("e1", { pskId: "a", psk: "one" }, { onlyIfAbsent: true }), true);
  t.equal(await f.store.setIpsec("e1", { pskId: "b", psk: "two" }, { onlyIfAbsent: true }), false, "a second first key is refused");
  t.same(await f.store.getIpsec("e1"), { pskId: "a", psk: "one" });
  t.equal(await f.store.setIpsec("e1", { pskId: "c", psk: "three" }), true, "rotation");
  t.same(await f.store.getIpsec("e1"), { pskId: "c", psk: "three" });
  t.equal(Number(await f.redis.get(env.rev)), rev0 + 2, "two writes, two revisions");
  t.equal((await streamEntries(f.redis, env.reconcile)).filter((e) => e.fields.type === "write").length >= 2, true);
  t.equal((await droverError(f.store.setIpsec("e404", { pskId: "x", psk: "y" }), "NotFound")).field, "envId");
  t.equal(await f.redis.exists(f.keys.env("e404").psk), 0, "nothing written for an unknown environment");
});

t.test("setDns: the version grows and every listed host gets a dns nudge; a stale leader writes nothing", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  await f.store.write("e1", { put: [{ kind: "host", record: host("e1", "h1") }, { kind: "host", record: host("e1", "h2") }] });
  t.equal(await f.store.setDns("e1", directory("10.42.1.2"), ["h1", "h2"], {}), 1);
  t.equal(await f.store.setDns("e1", directory("10.42.1.3"), ["h1"], {}), 2);
  t.same(await f.store.getDns("e1"), { version: 2, directory: directory("10.42.1.3") });
  t.same((await streamEntries(f.redis, f.keys.host("e1", "h1").nudges)).map((e) => e.fields), [{ type: "dns", version: "1" }, { type: "dns", version: "2" }]);
  t.same((await streamEntries(f.redis, f.keys.host("e1", "h2").nudges)).map((e) => e.fields), [{ type: "dns", version: "1" }]);

  await f.redis.set(f.keys.env("e1").leader, "s1:5");
  await droverError(f.store.setDns("e1", directory("10.42.9.9"), ["h1"], { fence: 4 }), "NotLeader");
  t.equal((await f.store.getDns("e1"))!.version, 2, "unchanged after the refused write");
  t.equal(await f.store.setDns("e1", directory("10.42.9.9"), ["h1"], { fence: 5 }), 3, "the current leader writes");
});

t.test("a host's ACL user may read the environment's DNS document, and only read it", async (t) => {
  const f = storeFixture(t);
  const rules = hostUserAclRules(f.keys, "e1", "h1", "p".repeat(20));
  t.ok(rules.includes(`%R~${f.keys.env("e1").dns}`), "read-only selector on the dns key");
  t.notOk(rules.some((r) => r.includes(f.keys.env("e1").psk)), "no access to the environment's key record");
});
