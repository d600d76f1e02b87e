/** Spread: fewest instances of this service first, then fewest in total. */
import t from "tap";
import { newInstanceLabels, schedule } from "../../../runtime/scheduler";
import { A, countsByHost, host, inst, request, service, snapshot } from "./fixtures";

const webOn = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => inst(`${prefix}-web-${i}`, { service: "svc-web" }));
const otherOn = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => inst(`${prefix}-x-${i}`, { service: "svc-x" }));

t.test("6 instances on 3 empty hosts: 2 each, whatever the seed", async (t) => {
  for (let seed = 0; seed < 10; seed++) {
    t.same(countsByHost(schedule(snapshot(host("h1"), host("h2"), host("h3")), request(service("web"), 6), seed)), { h1: 2, h2: 2, h3: 2 });
  }
});

t.test("an existing imbalance fills the emptier hosts first", async (t) => {
  const cluster = snapshot(host("h1", {}, webOn(3, "h1")), host("h2"), host("h3"));
  const three = schedule(cluster, request(service("web"), 3), 0);
  t.notOk(countsByHost(three).h1, "h1 already has 3; it gets none of 3 new");
  t.same(countsByHost(schedule(cluster, request(service("web"), 6), 0)), { h2: 3, h3: 3 });
  t.same(countsByHost(schedule(cluster, request(service("web"), 9), 0)), { h1: 1, h2: 4, h3: 4 });
});

t.test("instances of this service count before instances in total", async (t) => {
  // h1: no web but 10 others; h2: one web, nothing else.
  const cluster = snapshot(host("h1", {}, otherOn(10, "h1")), host("h2", {}, webOn(1, "h2")));
  t.same(schedule(cluster, request(service("web"), 1), 0).placements[0].hostName, "h1");
});

t.test("with the same count of this service, fewer instances in total wins", async (t) => {
  const cluster = snapshot(host("h1", {}, otherOn(5, "h1")), host("h2", {}, otherOn(2, "h2")), host("h3", {}, otherOn(3, "h3")));
  for (let seed = 0; seed < 10; seed++) t.same(schedule(cluster, request(service("web"), 1), seed).placements[0].hostName, "h2");
  t.same(countsByHost(schedule(cluster, request(service("web"), 3), 0)), { h1: 1, h2: 1, h3: 1 });
});

t.test("soft rules come before spread", async (t) => {
  const cluster = snapshot(host("h1", { zone: "a" }), host("h2", { zone: "b" }));
  t.same(countsByHost(schedule(cluster, request(service("web", { [A + "host_label_soft"]: "zone=a" }), 4), 0)), { h1: 4 });
});

t.test("soft self anti-affinity spreads first and doubles up only when it must", async (t) => {
  const svc = service("web", { [A + "container_label_soft_ne"]: "io.drover.service=svc-web" });
  const cluster = snapshot(host("h1"), host("h2"), host("h3", {}, otherOn(4, "h3")));
  const result = schedule(cluster, request(svc, 4), 0);
  t.ok(result.ok);
  t.same(new Set(result.placements.slice(0, 3).map((p) => p.hostName)).size, 3, "first three on three hosts");
});

t.test("instances the request says are already placed count for spread", async (t) => {
  const cluster = snapshot(host("h1"), host("h2"));
  const labels = newInstanceLabels(service("web"));
  const placed = ["web-0", "web-00"].map((name) => ({ ...inst(name, { service: "svc-web", labels }), hostId: "id-h1" }));
  t.same(countsByHost(schedule(cluster, request(service("web"), 2, { placed }), 0)), { h2: 2 });
  // ...and for the rules.
  const anti = service("web", { [A + "container_label_ne"]: "io.drover.service=svc-web" });
  t.same(countsByHost(schedule(cluster, request(anti, 2, { placed }), 0)), { h2: 1 });
});
