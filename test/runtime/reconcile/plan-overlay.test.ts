import t from "tap";
import type { HostDesiredState, IpsecSpec } from "../../../runtime/protocol/model";
import { planEnvironment } from "../../../runtime/reconcile/plan";
import type { PlanInput } from "../../../runtime/reconcile/plan-types";
import { host, input, instance, service, stack } from "./fixtures";

const key: IpsecSpec = { pskId: "psk-1", psk: "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=" };
const meshHost = (id: string, n: number, extra = {}) => host(id, {}, { underlayIp: `198.18.0.${10 + n}`, ...extra });

/** The stored desired documents as they would be after this plan was written (generation aside). */
function stored(inp: PlanInput): Record<string, HostDesiredState> {
  const plan = planEnvironment(inp);
  return Object.fromEntries(plan.desired.map((d) => [d.hostId, { generation: 1, ...d }]));
}

t.test("each host's desired document carries its subnet, gateway, the key and every other mesh host as a peer", async (t) => {
  const inp = { ...input({ hosts: [meshHost("h1", 1), meshHost("h2", 2), meshHost("h3", 3)] }), ipsec: key };
  const docs = stored(inp);
  t.same(Object.keys(docs).sort(), ["h1", "h2", "h3"]);
  const n1 = docs.h1.network!;
  t.equal(n1.cidr, "10.42.0.0/16");
  t.equal(n1.subnet, "10.42.1.0/24");
  t.equal(n1.gateway, "10.42.1.1");
  t.equal(n1.underlayIp, "198.18.0.11");
  t.same(n1.ipsec, key);
  t.same(n1.peers, [
    { hostId: "h2", name: "h2", underlayIp: "198.18.0.12", subnet: "10.42.2.0/24" },
    { hostId: "h3", name: "h3", underlayIp: "198.18.0.13", subnet: "10.42.3.0/24" },
  ]);
  t.same(docs.h3.network!.peers.map((p) => p.hostId), ["h1", "h2"]);
});

t.test("no key yet: documents carry no network; the first key rewrites them", async (t) => {
  const inp = input({ hosts: [meshHost("h1", 1)], services: [service("web")] });
  const docs = stored(inp);
  t.equal(docs.h1.network, undefined);
  const keyed = planEnvironment({ ...inp, desired: docs, ipsec: key }).desired;
  t.equal(keyed.length, 1);
  t.equal(keyed[0].network?.ipsec.pskId, "psk-1");
});

t.test("a rotated key reaches every host; an unchanged key rewrites nothing", async (t) => {
  const inp = { ...input({ hosts: [meshHost("h1", 1), meshHost("h2", 2)] }), ipsec: key };
  const docs = stored(inp);
  t.same(planEnvironment({ ...inp, desired: docs }).desired, [], "same key: nothing to write");
  const rotated = { pskId: "psk-2", psk: "bmV3bmV3bmV3bmV3bmV3bmV3bmV3bmV3bmV3bmV3MTI=" };
  const next = planEnvironment({ ...inp, desired: docs, ipsec: rotated }).desired;
  t.same(next.map((d) => [d.hostId, d.network!.ipsec.pskId]), [["h1", "psk-2"], ["h2", "psk-2"]]);
});

t.test("a joining host is added to every peer list; hosts without an underlay address or being removed are no peers", async (t) => {
  const base = { ...input({ hosts: [meshHost("h1", 1), meshHost("h2", 2)] }), ipsec: key };
  const docs = stored(base);
  const joined = { ...input({ hosts: [meshHost("h1", 1), meshHost("h2", 2), meshHost("h3", 3), host("h4"), meshHost("h5", 5, { state: "removing" })] }), ipsec: key, desired: docs };
  const plan = planEnvironment(joined);
  const byHost = Object.fromEntries(plan.desired.map((d) => [d.hostId, d]));
  t.same(byHost.h1.network!.peers.map((p) => p.hostId), ["h2", "h3"]);
  t.same(byHost.h2.network!.peers.map((p) => p.hostId), ["h1", "h3"]);
  t.same(byHost.h3.network!.peers.map((p) => p.hostId), ["h1", "h2"]);
  t.equal(byHost.h4.network!.underlayIp, undefined, "h4 gets its own network part");
  t.same(byHost.h4.network!.peers.map((p) => p.hostId), ["h1", "h2", "h3"]);
  t.notOk(byHost.h5, "a removing host gets no document");
});

t.test("desired instances carry their overlay address", async (t) => {
  const inp = { ...input({ hosts: [meshHost("h1", 1)], services: [service("web", { scale: 2 })] }), ipsec: key };
  const doc = planEnvironment(inp).desired.find((d) => d.hostId === "h1")!;
  t.equal(doc.instances.length, 2);
  for (const i of doc.instances) t.match(i.ip, /^10\.42\.1\.\d+$/);
  t.not(doc.instances[0].ip, doc.instances[1].ip);
});

t.test("the DNS directory: services with links, stacks with their switch, instances with address and running flag", async (t) => {
  const web = service("web", { links: { db: "cache" } });
  const cache = service("cache");
  const instances = [
    instance("i1", "web", "h1", 1, { ip: "10.42.1.2", status: { state: "running", restartCount: 0 } }),
    instance("i2", "cache", "h1", 1, { ip: "10.42.1.3", status: { state: "exited", restartCount: 0 } }),
    instance("i3", "cache", "h1", 2),
  ];
  const inp = { ...input({ hosts: [meshHost("h1", 1)], services: [web, cache], instances, stacks: [{ ...stack(), stackWideDiscovery: true }] }), ipsec: key };
  inp.observed = { h1: { hostId: "h1", appliedGeneration: 1, reportedAt: "x", instances: { i1: { state: "running", restartCount: 0 }, i2: { state: "exited", restartCount: 0 } } } };
  const plan = planEnvironment(inp);
  t.ok(plan.dns, "a first directory is written");
  t.same(plan.dns!.instances, [
    { id: "i1", ip: "10.42.1.2", serviceId: "web", running: true },
    { id: "i2", ip: "10.42.1.3", serviceId: "cache", running: false },
  ], "instances without an address are left out");
  t.same(plan.dns!.services.map((s) => [s.id, s.links]), [["cache", {}], ["web", { db: "cache" }]]);
  t.same(plan.dns!.stacks, [{ id: "s1", name: "app", stackWideDiscovery: true }]);
  const again = planEnvironment({ ...inp, dns: { version: 9, directory: plan.dns! } });
  t.equal(again.dns, undefined, "unchanged directory: no write");
});

t.test("a removed service leaves the directory in the pass that deletes it", async (t) => {
  const gone = service("old", {}, { state: "removing" });
  const inp = { ...input({ hosts: [meshHost("h1", 1)], services: [gone, service("web")] }), ipsec: key };
  const plan = planEnvironment(inp);
  t.same(plan.dns!.services.map((s) => s.id), ["web"]);
});
