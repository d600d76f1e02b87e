import t from "tap";
import { parseCidr, ipv4ToInt, lastAddress } from "../../../runtime/ipam";
import type { HostRecord, InstanceRecord, ServiceRecord } from "../../../runtime/protocol/model";
import type { Plan, PlanInput } from "../../../runtime/reconcile/plan-types";
import { planEnvironment } from "../../../runtime/reconcile/plan";
import { env, host, input, newHost, service } from "./fixtures";

const puts = <T>(plan: Plan, kind: string) => plan.batch.put.filter((p) => p.kind === kind).map((p) => p.record as unknown as T);
const created = (plan: Plan) => puts<InstanceRecord>(plan, "instance").filter((i) => i.state === "requested");

/** The next pass's input: the plan's writes applied to the snapshot (what the store would hold). */
function feedBack(inp: PlanInput, plan: Plan): PlanInput {
  const apply = <T extends { id: string }>(list: T[], kind: string): T[] => {
    const gone = new Set(plan.batch.remove.filter((r) => r.kind === kind).map((r) => r.id));
    const byId = new Map(list.filter((r) => !gone.has(r.id)).map((r) => [r.id, r]));
    for (const r of puts<T>(plan, kind)) byId.set(r.id, r);
    return [...byId.values()];
  };
  const s = inp.snapshot;
  let n = 0;
  return {
    ...inp,
    snapshot: { ...s, hosts: apply(s.hosts, "host"), instances: apply(s.instances, "instance"), services: apply(s.services, "service") },
    newId: () => `p${s.rev + 1}-${++n}`,
  };
}

const inSubnet = (ip: string, subnet: string) => {
  const c = parseCidr(subnet)!;
  const n = ipv4ToInt(ip)!;
  return n > c.base + 1 && n < lastAddress(c);
};

t.test("three new hosts get distinct subnets in one pass, oldest first", async (t) => {
  const hosts = [newHost("h3", { createdAt: "3" }), newHost("h1", { createdAt: "1" }), newHost("h2", { createdAt: "2" })];
  const plan = planEnvironment(input({ hosts }));
  const got = Object.fromEntries(puts<HostRecord>(plan, "host").map((h) => [h.id, h.subnet]));
  t.same(got, { h1: "10.42.0.0/24", h2: "10.42.1.0/24", h3: "10.42.2.0/24" });
});

t.test("new hosts skip subnets in use; removing hosts get none", async (t) => {
  const hosts = [host("h0"), newHost("h5"), newHost("h6", { state: "removing" })];
  const plan = planEnvironment(input({ hosts }));
  t.same(puts<HostRecord>(plan, "host").map((h) => [h.id, h.subnet]), [["h5", "10.42.1.0/24"]]);
});

t.test("a host's subnet write and its liveness change are one record", async (t) => {
  const plan = planEnvironment(input({ hosts: [newHost("h1")], heartbeats: { h1: undefined } }));
  const written = puts<HostRecord>(plan, "host");
  t.equal(written.length, 1);
  t.equal(written[0].state, "reconnecting");
  t.equal(written[0].subnet, "10.42.0.0/24");
});

t.test("new instances get distinct addresses inside their host's subnet", async (t) => {
  const plan = planEnvironment(input({ hosts: [newHost("h1"), newHost("h2")], services: [service("web", { scale: 6 }), service("db", { scale: 2 })] }));
  const subnetOf = Object.fromEntries(puts<HostRecord>(plan, "host").map((h) => [h.id, h.subnet!]));
  const made = created(plan);
  t.equal(made.length, 8);
  t.equal(new Set(made.map((i) => i.ip)).size, 8, "all distinct");
  for (const i of made) t.ok(inSubnet(i.ip!, subnetOf[i.hostId]), `${i.name} ${i.ip} in ${subnetOf[i.hostId]}`);
  t.notOk(made.some((i) => i.ip!.endsWith(".1")), "the gateway is never handed out");
  t.notOk("ip" in made[0].spec, "the agent's spec is unchanged");
});

t.test("addresses and subnets are stable across passes", async (t) => {
  const first = input({ hosts: [newHost("h1"), newHost("h2"), newHost("h3")], services: [service("web", { scale: 3 })] });
  const p1 = planEnvironment(first);
  const second = feedBack(first, p1);
  const p2 = planEnvironment(second);
  t.same(puts(p2, "host"), [], "no host rewritten");
  const ipOf = new Map(created(p1).map((i) => [i.id, i.ip]));
  const rewritten = puts<InstanceRecord>(p2, "instance"); // requested → activating
  t.equal(rewritten.length, 3);
  t.ok(rewritten.every((i) => i.ip === ipOf.get(i.id)), "a state change keeps the address");
  t.same(created(p2), []);
  t.same(second.snapshot.hosts.map((h) => h.subnet).sort(), ["10.42.0.0/24", "10.42.1.0/24", "10.42.2.0/24"]);
  // Scale up: the old ones keep theirs, the new ones take the next free.
  const third = feedBack(second, p2);
  third.snapshot.services = [service("web", { scale: 6 })];
  const p3 = planEnvironment(third);
  const before = new Set(created(p1).map((i) => i.ip));
  const added = created(p3);
  t.equal(added.length, 3);
  t.notOk(added.some((i) => before.has(i.ip)), "no address handed out twice");
  t.same(puts(p3, "host"), []);
});

t.test("addresses of removed instances are free again in the next pass, not this one", async (t) => {
  const first = input({ hosts: [host("h1")], services: [service("web", { scale: 2 })] });
  const p1 = planEnvironment(first);
  t.same(created(p1).map((i) => i.ip).sort(), ["10.42.1.2", "10.42.1.3"]);
  // Both turn sick and are recreated at once: the old records still hold their addresses during the pass.
  const second = feedBack(first, p1);
  const check = { port: 80, interval: 2000, responseTimeout: 2000, healthyThreshold: 2, unhealthyThreshold: 3, initializingTimeout: 60000, reinitializingTimeout: 60000, strategy: "recreate" as const };
  second.snapshot.services = [service("web", { scale: 2, healthCheck: check })];
  second.snapshot.instances = second.snapshot.instances.map((i) => ({ ...i, healthState: "unhealthy" as const, healthReason: "connection refused" }));
  const p2 = planEnvironment(second);
  t.equal(p2.batch.remove.filter((r) => r.kind === "instance").length, 2);
  t.same(created(p2).map((i) => i.ip).sort(), ["10.42.1.4", "10.42.1.5"]);
  // Once those records are gone, a scale-up reuses the lowest freed ones.
  const third = feedBack(second, p2);
  third.snapshot.services = [service("web", { scale: 4, healthCheck: check })];
  t.same(created(planEnvironment(third)).map((i) => i.ip).sort(), ["10.42.1.2", "10.42.1.3"]);
});

t.test("a removed host's subnet is released when its record goes", async (t) => {
  const first = input({ hosts: [host("h0", {}, { state: "removing" }), host("h1"), newHost("h2")] });
  first.teardownDone = { h0: true };
  const p1 = planEnvironment(first);
  t.ok(p1.batch.remove.some((r) => r.kind === "host" && r.id === "h0"));
  t.equal(puts<HostRecord>(p1, "host").find((h) => h.id === "h2")?.subnet, "10.42.2.0/24", "still held in the pass that removes it");
  const second = feedBack(first, p1);
  second.snapshot.hosts.push(newHost("h3"));
  t.equal(puts<HostRecord>(planEnvironment(second), "host").find((h) => h.id === "h3")?.subnet, "10.42.0.0/24", "free afterwards");
});

t.test("a full host subnet: the instance is not created and the service says why", async (t) => {
  const e = { ...env(), network: { cidr: "10.42.0.0/16", hostSubnetPrefix: 29 } };
  const plan = planEnvironment(input({ env: e, hosts: [host("h1", {}, { subnet: "10.42.0.8/29" })], services: [service("web", { scale: 7 })] }));
  const made = created(plan);
  t.same(made.map((i) => i.ip), ["10.42.0.10", "10.42.0.11", "10.42.0.12", "10.42.0.13", "10.42.0.14"]);
  t.same(made.map((i) => i.index), [1, 2, 3, 4, 5], "indexes stay dense");
  const svc = puts<ServiceRecord>(plan, "service")[0];
  t.equal(svc.transitioning, "error");
  t.equal(svc.transitioningMessage, "2 instances of app/web got no address: host h1: subnet 10.42.0.8/29 has no free address (all 5 in use)");
  t.equal(plan.desired[0].instances.length, 5, "the agent gets only the created ones");
});

t.test("a full network: the extra host gets no subnet and takes no instance", async (t) => {
  const e = { ...env(), network: { cidr: "10.42.0.0/23", hostSubnetPrefix: 24 } };
  const hosts = [newHost("h1", { createdAt: "1" }), newHost("h2", { createdAt: "2" }), newHost("h3", { createdAt: "3" })];
  const plan = planEnvironment(input({ env: e, hosts, services: [service("agent", { global: true })] }));
  t.same(puts<HostRecord>(plan, "host").map((h) => h.id).sort(), ["h1", "h2"]);
  t.same(created(plan).map((i) => i.hostId).sort(), ["h1", "h2"], "a global service skips the host without a subnet");
  const svc = puts<ServiceRecord>(plan, "service")[0];
  t.not(svc.transitioning, "error", "skipping a host is not an error for a global service");
});

t.test("a host left without a subnet (network full) takes no instances", async (t) => {
  const { planEnvironment } = await import("../../../runtime/reconcile/plan");
  const f = await import("./fixtures");
  const inp = f.input({ hosts: [f.host("h1"), f.newHost("h2")], services: [f.service("web", { scale: 2 })] });
  inp.snapshot.env = { ...inp.snapshot.env, network: { cidr: "10.42.1.0/24", hostSubnetPrefix: 24 } };
  const plan = planEnvironment(inp);
  const made = plan.batch.put.filter((p) => p.kind === "instance").map((p) => p.record as { hostId: string });
  t.same(made.map((i) => i.hostId), ["h1", "h1"], "both instances go to the host that has a subnet");
});
