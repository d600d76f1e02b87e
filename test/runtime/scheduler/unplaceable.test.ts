/** What the scheduler says when it cannot place everything: per host, in short sentences. */
import t from "tap";
import { reasonLines, schedule, unplaceableError } from "../../../runtime/scheduler";
import { A, STACK, host, hostSet, inst, request, service, snapshot, tcp } from "./fixtures";

const three = snapshot(host("h1"), host("h2"), host("h3"));
const names = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `web-${i + 1}` }));

t.test("anti-affinity with itself: scale 4 on 3 hosts places 3 and explains the 4th host by host", async (t) => {
  const svc = service("web", { [A + "container_label_ne"]: "io.rancher.stack_service.name=${stack_name}/${service_name}" });
  const result = schedule(three, request(svc, 4, { newInstances: names(4) }), 7);
  t.equal(result.ok, false);
  t.same(hostSet(result), ["h1", "h2", "h3"]);
  t.equal(result.placements.length, 3);
  t.equal(result.unplaceable?.count, 1);
  const reasons = result.unplaceable!.reasons;
  t.same(Object.keys(reasons), ["h1", "h2", "h3"]);
  for (const p of result.placements) {
    t.same(reasons[p.hostName], [`container_label_ne io.rancher.stack_service.name=${STACK}/web matched (instance ${p.instance.name})`]);
  }
  t.match(result.unplaceable!.message, /^1 of 4 instances of shop\/web could not be placed: h1: container_label_ne/);
});

t.test("anti-affinity on io.drover.service=<id> spreads one per host too", async (t) => {
  const svc = service("web", { [A + "container_label_ne"]: "io.drover.service=svc-web" });
  const result = schedule(three, request(svc, 5), 1);
  t.equal(result.placements.length, 3);
  t.equal(result.unplaceable?.count, 2);
  t.match(result.unplaceable!.reasons.h2[0], /^container_label_ne io\.drover\.service=svc-web matched \(instance svc-web\/new-\d\)$/);
});

t.test("reasons for each kind of hard failure", async (t) => {
  const cluster = snapshot(
    host("h1", { zone: "a" }, [inst("db-1", { labels: { app: "db" } })]),
    host("h2", { zone: "a" }, [inst("proxy-1", { ports: [tcp(80)] })]),
    host("h3", { zone: "a" }, [], "reconnecting"),
    host("h4", { zone: "a" }, [], "disconnected"),
    host("h5", { zone: "b" }),
  );
  const svc = service("web", { [A + "host_label"]: "zone=a", [A + "container_label_ne"]: "app=db" }, [tcp(80)]);
  const result = schedule(cluster, request(svc, 1), 0);
  t.notOk(result.ok);
  t.same(result.unplaceable?.reasons, {
    h1: ["container_label_ne app=db matched (instance db-1)"],
    h2: ["port 80/tcp in use (instance proxy-1)"],
    h3: ["host is reconnecting"],
    h4: ["host is disconnected"],
    h5: ["host_label zone=a not present"],
  });
  t.same(reasonLines(result.unplaceable!.reasons), [
    "h1: container_label_ne app=db matched (instance db-1)",
    "h2: port 80/tcp in use (instance proxy-1)",
    "h3: host is reconnecting",
    "h4: host is disconnected",
    "h5: host_label zone=a not present",
  ]);
});

t.test("reasons for the other hard rules", async (t) => {
  const cluster = snapshot(host("h1", { zone: "b" }, [inst("db-1", { labels: { app: "db" } })]));
  const cases: Array<[string, string, string]> = [
    ["host_label_ne", "zone=b", "host_label_ne zone=b matched"],
    ["container_label", "app=cache", "container_label app=cache not present"],
    ["container", "cache-1", "container cache-1 not present"],
    ["container_ne", "db-1", "container_ne db-1 matched (instance db-1)"],
  ];
  for (const [key, value, reason] of cases) {
    t.same(schedule(cluster, request(service("web", { [A + key]: value }), 1), 0).unplaceable?.reasons, { h1: [reason] }, key);
  }
});

t.test("every failing rule on a host is listed", async (t) => {
  const cluster = snapshot(host("h1", { zone: "b" }, [inst("db-1", { labels: { app: "db" }, ports: [tcp(80)] })]));
  const svc = service("web", { [A + "host_label"]: "zone=a", [A + "container_label_ne"]: "app=db" }, [tcp(80)]);
  t.same(schedule(cluster, request(svc, 1), 0).unplaceable?.reasons.h1, [
    "host_label zone=a not present",
    "container_label_ne app=db matched (instance db-1)",
    "port 80/tcp in use (instance db-1)",
  ]);
});

t.test("inactive hosts never take instances", async (t) => {
  const cluster = snapshot(host("h1", {}, [], "reconnecting"), host("h2"), host("h3", {}, [], "disconnected"));
  const result = schedule(cluster, request(service("web"), 4), 0);
  t.ok(result.ok);
  t.same(hostSet(result), ["h2"]);
});

t.test("no hosts at all", async (t) => {
  const result = schedule(snapshot(), request(service("web"), 2), 0);
  t.same(result.placements, []);
  t.equal(result.unplaceable?.count, 2);
  t.match(result.unplaceable!.message, /there are no hosts/);
});

t.test("the message names a few hosts and counts the rest", async (t) => {
  const many = snapshot(...Array.from({ length: 9 }, (_, i) => host(`h${i}`, {}, [], "disconnected")));
  const message = schedule(many, request(service("web"), 1), 0).unplaceable!.message;
  t.match(message, /h4: host is disconnected; and 4 more hosts$/);
});

t.test("unplaceableError gives the API its 422 with per-host detail", async (t) => {
  const result = schedule(snapshot(host("h1", {}, [], "disconnected")), request(service("web"), 1), 0);
  const err = unplaceableError(result)!;
  t.equal(err.code, "Unplaceable");
  t.equal(err.httpStatus, 422);
  t.same(err.detail, { unplaced: 1, placed: 0, reasons: { h1: ["host is disconnected"] } });
  t.equal(unplaceableError(schedule(three, request(service("web"), 1), 0)), undefined);
});

t.test("scale 0 places nothing and is fine", async (t) => {
  t.same(schedule(three, request(service("web"), 0), 0), { ok: true, placements: [] });
});
