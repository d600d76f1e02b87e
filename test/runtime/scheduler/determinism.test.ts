/** Same snapshot + request + seed → same answer; a different seed only reorders ties. */
import t from "tap";
import { indexSnapshot, schedule } from "../../../runtime/scheduler";
import { A, countsByHost, host, hostsOf, inst, request, service, snapshot } from "./fixtures";

const cluster = snapshot(
  host("h1", { zone: "a" }),
  host("h2", { zone: "a" }, [inst("db-1", { labels: { app: "db" } })]),
  host("h3", { zone: "b" }),
  host("h4", { zone: "a" }),
  host("h5", { zone: "a" }),
);
const svc = service("web", { [A + "host_label"]: "zone=a", [A + "container_label_soft_ne"]: "app=db" });

t.test("same seed, same answer: repeated calls, fresh index or shared index", async (t) => {
  const first = schedule(cluster, request(svc, 7), 42);
  t.same(schedule(cluster, request(svc, 7), 42), first);
  const index = indexSnapshot(cluster);
  t.same(schedule(index, request(svc, 7), 42), first);
  t.same(schedule(index, request(svc, 7), 42), first, "the index is left as it was");
  t.same(schedule(cluster, request(svc, 7), "42"), schedule(cluster, request(svc, 7), "42"), "string seeds too");
});

t.test("different seeds may break ties differently but honour the rules", async (t) => {
  const firstChoices = new Set<string>();
  for (let seed = 0; seed < 40; seed++) {
    const result = schedule(cluster, request(svc, 1), seed);
    const chosen = result.placements[0].hostName;
    firstChoices.add(chosen);
    t.ok(["h1", "h4", "h5"].includes(chosen), `seed ${seed}: ${chosen} is zone a without db`);
  }
  t.same([...firstChoices].sort(), ["h1", "h4", "h5"], "every tied host wins for some seed");
  // Spread is never traded away for the tie-break.
  for (let seed = 0; seed < 10; seed++) t.same(countsByHost(schedule(cluster, request(svc, 3), seed)), { h1: 1, h4: 1, h5: 1 });
});

t.test("host order in the snapshot does not change the answer", async (t) => {
  const reversed = snapshot(...[...cluster.hosts].reverse());
  for (let seed = 0; seed < 10; seed++) t.same(hostsOf(schedule(reversed, request(svc, 5), seed)), hostsOf(schedule(cluster, request(svc, 5), seed)));
});

t.test("the snapshot is never modified", async (t) => {
  const before = JSON.stringify(cluster);
  schedule(cluster, request(svc, 9), 1);
  schedule(cluster, request(service("x", { "io.rancher.scheduler.global": "true" }), 1), 1);
  t.equal(JSON.stringify(cluster), before);
});
