/** Global services: one instance on every active host that passes the hard rules. */
import t from "tap";
import { schedule } from "../../../runtime/scheduler";
import { A, hostsOf, host, inst, request, service, snapshot, tcp } from "./fixtures";

const cluster = snapshot(
  host("h1", { role: "worker" }),
  host("h2", { role: "worker" }, [], "reconnecting"),
  host("h3", { role: "db" }),
  host("h4", { role: "worker" }, [inst("agent-4", { service: "svc-agent" })]),
  host("h5", { role: "worker" }, [inst("nginx-5", { ports: [tcp(80)] })]),
  host("h6", { role: "worker" }),
);

t.test("global with a hard host_label filter: one per passing host, the rest explained", async (t) => {
  const result = schedule(cluster, request(service("agent", { [A + "host_label"]: "role=worker" }, [tcp(80)]), "global"), 0);
  t.ok(result.ok, "hosts that fail are not an error");
  t.same(hostsOf(result), ["h1", "h6"], "h4 already runs one");
  t.equal(result.unplaceable, undefined);
  t.same(result.skipped, {
    h2: ["host is reconnecting"],
    h3: ["host_label role=worker not present"],
    h5: ["port 80/tcp in use (instance nginx-5)"],
  });
});

t.test("io.rancher.scheduler.global=true makes a service global whatever the count", async (t) => {
  const result = schedule(cluster, request(service("agent", { "io.rancher.scheduler.global": "true" }), 1), 0);
  t.same(hostsOf(result), ["h1", "h3", "h5", "h6"]);
});

t.test("global ignores soft rules and spread: exactly one each", async (t) => {
  const result = schedule(cluster, request(service("mon", { [A + "host_label_soft"]: "role=db" }), "global"), 5);
  t.same(hostsOf(result), ["h1", "h3", "h4", "h5", "h6"]);
});

t.test("global with anti-affinity to another service", async (t) => {
  const result = schedule(cluster, request(service("mon", { [A + "container_ne"]: "nginx-5" }), "global"), 0);
  t.same(hostsOf(result), ["h1", "h3", "h4", "h6"]);
  t.same(result.skipped?.h5, ["container_ne nginx-5 matched (instance nginx-5)"]);
});
