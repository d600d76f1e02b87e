/** sourcePortCollisions on its own (pure): which hosts count, which instances hold a port. */
import t from "tap";
import type { HostRecord, InstanceRecord, LoadBalancerSpec, ServiceRecord } from "../../../runtime/protocol/model";
import { sourcePortCollisions } from "../../../runtime/api/load-balancer-ports";
import { defaultLoadBalancerSpec } from "../../../runtime/protocol/validate/load-balancer";

const host = (id: string, extra: Partial<HostRecord> = {}): HostRecord => ({
  id, envId: "e", name: id, labels: {}, subnet: "10.42.1.0/24", state: "active", deactivated: false, createdAt: "", rev: 0, ...extra,
});
const inst = (id: string, hostId: string, hostPort: number, serviceId = "s1", extra: Partial<InstanceRecord> = {}): InstanceRecord => ({
  id, envId: "e", serviceId, stackId: "st", hostId, name: id, index: 1, specVersion: 1, state: "active", createdAt: "", rev: 0,
  spec: { image: "x", env: {}, ports: [{ hostPort, containerPort: 80, protocol: "tcp" }], labels: {}, restartPolicy: { name: "no" } },
  ...extra,
});
const service = (id: string, state: ServiceRecord["state"]) => ({ id, state } as ServiceRecord);
const spec = (ports: number[], labels: Record<string, string> = {}): LoadBalancerSpec => ({
  ...defaultLoadBalancerSpec(), labels, portRules: ports.map((sourcePort) => ({ sourcePort, protocol: "tcp" as const, targetServiceId: "s1", targetPort: 80 })),
});
const lb = (s: LoadBalancerSpec) => ({ id: "lb1", name: "edge", stackName: "web", spec: s });
const fields = (c: ReturnType<typeof sourcePortCollisions>) => c.map((x) => x.field);

t.test("a port is refused only when every eligible host has it taken", async (t) => {
  const hosts = [host("h1"), host("h2")];
  const services = [service("s1", "active")];
  t.same(fields(sourcePortCollisions(lb(spec([80, 443, 80])), hosts, [inst("i1", "h1", 80)], services)), [], "h2 has 80 free");
  const both = sourcePortCollisions(lb(spec([443, 80, 80])), hosts, [inst("i1", "h1", 80), inst("i2", "h2", 80)], services);
  t.same(fields(both), ["portRules[1].sourcePort"], "one problem per port, at its first rule");
  t.same(both[0].hosts, { h1: ["port 80/tcp in use (instance i1)"], h2: ["port 80/tcp in use (instance i2)"] });
  t.equal(both[0].code, "Conflict");
});

t.test("which hosts are eligible", async (t) => {
  const services = [service("s1", "active")];
  const taken = [inst("i1", "h1", 80)];
  t.same(fields(sourcePortCollisions(lb(spec([80])), [host("h1"), host("h2", { deactivated: true })], taken, services)), ["portRules[0].sourcePort"],
    "a deactivated host does not count as a place to go");
  t.same(fields(sourcePortCollisions(lb(spec([80])), [host("h1"), host("h2", { subnet: undefined })], taken, services)), ["portRules[0].sourcePort"],
    "nor a host without a subnet");
  const labelled = [host("h1", { labels: { zone: "a" } }), host("h2", { labels: { zone: "b" } })];
  t.same(fields(sourcePortCollisions(lb(spec([80], { "io.rancher.scheduler.affinity:host_label": "zone=a" })), labelled, taken, services)), ["portRules[0].sourcePort"],
    "labels narrow the hosts");
  t.same(fields(sourcePortCollisions(lb(spec([80], { "io.rancher.scheduler.affinity:host_label": "zone=c" })), labelled, taken, services)), [],
    "no eligible host at all: not a port problem");
  t.same(fields(sourcePortCollisions(lb(spec([80])), [], [], services)), [], "no hosts");
  const twins = sourcePortCollisions(lb(spec([80])), [host("h1", { name: "n" }), host("h2", { name: "n" })], [inst("i1", "h1", 80), inst("i2", "h2", 80)], services);
  t.same(Object.keys(twins[0].hosts), ["n", "n (h2)"], "hosts sharing a name are told apart");
});

t.test("which instances hold ports", async (t) => {
  const hosts = [host("h1")];
  t.same(fields(sourcePortCollisions(lb(spec([80])), hosts, [inst("i1", "h1", 80, "s1", { state: "removing" })], [service("s1", "active")])), [], "an instance being removed");
  t.same(fields(sourcePortCollisions(lb(spec([80])), hosts, [inst("i1", "h1", 80, "s2")], [service("s2", "removing")])), [], "an instance of a service being removed");
  t.same(fields(sourcePortCollisions(lb(spec([80])), hosts, [inst("i1", "h1", 80, "s2")], [service("s2", "inactive")])), [], "an instance of a deactivated service");
  t.same(fields(sourcePortCollisions(lb(spec([80])), hosts, [inst("i1", "h1", 80, "lb1", { kind: "lb" })], [])), [], "the load balancer's own HAProxy");
  t.same(fields(sourcePortCollisions(lb(spec([80])), hosts, [inst("i1", "h1", 80, "lb2", { kind: "lb" })], [])), ["portRules[0].sourcePort"], "another load balancer's HAProxy");
  t.same(fields(sourcePortCollisions(lb(spec([80])), hosts, [inst("i1", "h1", 80, "s1", { spec: { ...inst("x", "h1", 80).spec, ports: [{ hostPort: 80, containerPort: 80, protocol: "udp" }] } })], [service("s1", "active")])), [],
    "80/udp does not take 80/tcp");
});
