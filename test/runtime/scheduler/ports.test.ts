/** Host port conflicts: same port and protocol on the same (or every) address. */
import t from "tap";
import { hostPortsOf, schedule } from "../../../runtime/scheduler";
import { host, hostSet, inst, request, service, snapshot, tcp, udp } from "./fixtures";

const cases: Array<{ name: string; taken: ReturnType<typeof tcp>; wanted: ReturnType<typeof tcp>; conflict: boolean }> = [
  { name: "same port tcp", taken: tcp(80), wanted: tcp(80), conflict: true },
  { name: "tcp vs udp are distinct", taken: tcp(53), wanted: udp(53), conflict: false },
  { name: "udp vs udp", taken: udp(53), wanted: udp(53), conflict: true },
  { name: "other port", taken: tcp(80), wanted: tcp(81), conflict: false },
  { name: "wildcard taken, specific wanted", taken: tcp(80), wanted: tcp(80, "10.0.0.1"), conflict: true },
  { name: "specific taken, wildcard wanted", taken: tcp(80, "10.0.0.1"), wanted: tcp(80), conflict: true },
  { name: "same ip", taken: tcp(80, "10.0.0.1"), wanted: tcp(80, "10.0.0.1"), conflict: true },
  { name: "different ips", taken: tcp(80, "10.0.0.1"), wanted: tcp(80, "10.0.0.2"), conflict: false },
  { name: "0.0.0.0 is every address", taken: tcp(80, "0.0.0.0"), wanted: tcp(80, "10.0.0.2"), conflict: true },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const cluster = snapshot(host("h1", {}, [inst("old", { ports: [c.taken] })]), host("h2"));
    const result = schedule(cluster, request(service("web", {}, [c.wanted]), 2), 0);
    t.same(hostSet(result), c.conflict ? ["h2"] : ["h1", "h2"]);
    if (c.conflict) t.equal(result.unplaceable?.reasons.h1[0].startsWith("port "), true);
  });
}

t.test("a service publishing a port gets at most one instance per host", async (t) => {
  const result = schedule(snapshot(host("h1"), host("h2")), request(service("web", {}, [tcp(8080), udp(8080)]), 3, { newInstances: [{ name: "web-1" }, { name: "web-2" }] }), 0);
  t.equal(result.placements.length, 2);
  t.equal(result.unplaceable?.count, 1);
  const byHost = Object.fromEntries(result.placements.map((p) => [p.hostName, p.instance.name]));
  t.same(result.unplaceable?.reasons.h1, [`port 8080/tcp in use (instance ${byHost.h1})`, `port 8080/udp in use (instance ${byHost.h1})`]);
});

t.test("a port bound to one address is named with it", async (t) => {
  const cluster = snapshot(host("h1", {}, [inst("old", { ports: [tcp(80, "10.0.0.1")] })]));
  t.same(schedule(cluster, request(service("web", {}, [tcp(80, "10.0.0.1")]), 1), 0).unplaceable?.reasons.h1, ["port 10.0.0.1:80/tcp in use (instance old)"]);
});

t.test("hostPortsOf keeps only published ports, in the scheduler's shape", async (t) => {
  t.same(
    hostPortsOf([
      { containerPort: 80, hostPort: 8080, protocol: "tcp" },
      { containerPort: 53, protocol: "udp" },
      { containerPort: 443, hostPort: 443, protocol: "tcp", hostIp: "10.0.0.1" },
    ]),
    [tcp(8080), tcp(443, "10.0.0.1")],
  );
});
