/** Each of the 12 affinity labels, passing and failing, alone and combined, with macros. */
import t from "tap";
import { schedule } from "../../../runtime/scheduler";
import { A, STACK, host, hostSet, inst, request, service, snapshot } from "./fixtures";

/**
 * h1: zone=a, disk=ssd, runs db-1 (app=db)
 * h2: zone=b, disk=ssd, runs cache-1 (app=cache)
 * h3: zone=a, disk=hdd, empty
 */
const cluster = snapshot(
  host("h1", { zone: "a", disk: "ssd" }, [inst("db-1", { labels: { app: "db" } })]),
  host("h2", { zone: "b", disk: "ssd" }, [inst("cache-1", { labels: { app: "cache" } })]),
  host("h3", { zone: "a", disk: "hdd" }),
);

/** Hard rules: with 3 instances and spread, every eligible host gets used, and no other. */
const hardCases: Array<{ key: string; value: string; eligible: string[] }> = [
  { key: "host_label", value: "zone=a", eligible: ["h1", "h3"] },
  { key: "host_label", value: "zone=c", eligible: [] },
  { key: "host_label", value: "zone=a,disk=ssd", eligible: ["h1"] },
  { key: "host_label", value: "ZONE=A", eligible: ["h1", "h3"] },
  { key: "host_label_ne", value: "zone=a", eligible: ["h2"] },
  { key: "host_label_ne", value: "zone=b,disk=hdd", eligible: ["h1"] },
  { key: "host_label_ne", value: "zone=z", eligible: ["h1", "h2", "h3"] },
  { key: "container_label", value: "app=db", eligible: ["h1"] },
  { key: "container_label", value: "app=queue", eligible: [] },
  { key: "container_label", value: "app=db,app=cache", eligible: [] },
  { key: "container_label_ne", value: "app=db", eligible: ["h2", "h3"] },
  { key: "container_label_ne", value: "app=db,app=cache", eligible: ["h3"] },
  { key: "container", value: "db-1", eligible: ["h1"] },
  { key: "container", value: "i-cache-1", eligible: ["h2"] },
  { key: "container", value: "nope-1", eligible: [] },
  { key: "container_ne", value: "db-1", eligible: ["h2", "h3"] },
  { key: "container_ne", value: "db-1,cache-1", eligible: ["h3"] },
];

for (const c of hardCases) {
  t.test(`hard ${c.key}=${c.value} → ${c.eligible.join(",") || "nowhere"}`, async (t) => {
    const result = schedule(cluster, request(service("web", { [A + c.key]: c.value }), 3), 1);
    t.same(hostSet(result), c.eligible);
    t.equal(result.ok, c.eligible.length > 0);
    if (c.eligible.length === 0) t.equal(result.unplaceable?.count, 3);
  });
}

/** Soft rules: the preferred hosts win whatever the seed; nothing is ever left unplaced. */
const softCases: Array<{ key: string; value: string; preferred: string[] }> = [
  { key: "host_label_soft", value: "zone=b", preferred: ["h2"] },
  { key: "host_label_soft", value: "zone=a,disk=ssd", preferred: ["h1"] },
  { key: "host_label_soft_ne", value: "zone=a", preferred: ["h2"] },
  { key: "container_label_soft", value: "app=cache", preferred: ["h2"] },
  { key: "container_label_soft_ne", value: "app=db", preferred: ["h2", "h3"] },
  { key: "container_soft", value: "cache-1", preferred: ["h2"] },
  { key: "container_soft_ne", value: "db-1", preferred: ["h2", "h3"] },
];

for (const c of softCases) {
  t.test(`soft ${c.key}=${c.value} prefers ${c.preferred.join(",")}`, async (t) => {
    for (let seed = 0; seed < 20; seed++) {
      const result = schedule(cluster, request(service("web", { [A + c.key]: c.value }), 1), seed);
      t.ok(c.preferred.includes(result.placements[0].hostName), `seed ${seed} chose ${result.placements[0].hostName}`);
    }
  });
}

t.test("soft rules never block: unsatisfiable soft rules still place everything", async (t) => {
  for (const key of ["host_label_soft", "container_label_soft", "container_soft"]) {
    const value = key === "container_soft" ? "ghost-1" : "zone=mars";
    const result = schedule(cluster, request(service("web", { [A + key]: value }), 5), 3);
    t.ok(result.ok, key);
    t.equal(result.placements.length, 5, key);
  }
});

t.test("soft rules only order hosts that pass the hard rules", async (t) => {
  const svc = service("web", { [A + "host_label"]: "zone=a", [A + "host_label_soft"]: "disk=hdd" });
  for (let seed = 0; seed < 10; seed++) t.same(hostSet(schedule(cluster, request(svc, 1), seed)), ["h3"]);
  const blocked = service("web", { [A + "host_label"]: "zone=b", [A + "host_label_soft"]: "disk=hdd" });
  t.same(hostSet(schedule(cluster, request(blocked, 2), 0)), ["h2"], "soft zone a host never beats the hard rule");
});

t.test("a host satisfying more soft items beats one satisfying fewer", async (t) => {
  const svc = service("web", { [A + "host_label_soft"]: "zone=a,disk=ssd", [A + "container_label_soft_ne"]: "app=cache" });
  // h1: zone a, ssd, no cache → 3; h3: zone a, no cache → 2; h2: ssd → 1.
  t.same(schedule(cluster, request(svc, 1), 9).placements[0].hostName, "h1");
});

t.test("hard rules of different kinds combine (all must hold)", async (t) => {
  const svc = service("web", {
    [A + "host_label"]: "zone=a",
    [A + "container_label_ne"]: "app=db",
  });
  t.same(hostSet(schedule(cluster, request(svc, 3), 0)), ["h3"]);
  const none = service("web", { [A + "host_label"]: "zone=b", [A + "container_ne"]: "cache-1" });
  t.notOk(schedule(cluster, request(none, 1), 0).ok);
});

t.test("label keys are matched case-insensitively, like Rancher", async (t) => {
  const svc = service("web", { "IO.Rancher.Scheduler.Affinity:Host_Label": "zone=b" });
  t.same(hostSet(schedule(cluster, request(svc, 2), 0)), ["h2"]);
});

t.test("macros ${stack_name} and ${service_name} expand to the request's names", async (t) => {
  const own = { "io.rancher.stack_service.name": `${STACK}/web` };
  const running = snapshot(
    host("h1", { owner: STACK }, [inst("web-1", { labels: own })]),
    host("h2", { owner: "other" }),
    host("h3", { owner: STACK }),
  );
  const cases: Array<[string, Record<string, string>, string[]]> = [
    ["container_label_ne self", { [A + "container_label_ne"]: "io.rancher.stack_service.name=${stack_name}/${service_name}" }, ["h2", "h3"]],
    ["compose-escaped $${...}", { [A + "container_label_ne"]: "io.rancher.stack_service.name=$${stack_name}/$${service_name}" }, ["h2", "h3"]],
    ["host_label with ${stack_name}", { [A + "host_label"]: "owner=${stack_name}" }, ["h1", "h3"]],
    ["container name with macros", { [A + "container"]: "${service_name}-1" }, ["h1"]],
    ["short stack_service.name means this stack", { [A + "container_label_ne"]: "io.rancher.stack_service.name=web" }, ["h2", "h3"]],
  ];
  for (const [name, labels, eligible] of cases) {
    t.same(hostSet(schedule(running, request(service("web", labels), 2), 0)), eligible, name);
  }
});

t.test("a value with '=' in it keeps everything after the first '='", async (t) => {
  const c = snapshot(host("h1", { expr: "a=b" }), host("h2", { expr: "a" }));
  t.same(hostSet(schedule(c, request(service("web", { [A + "host_label"]: "expr=a=b" }), 2), 0)), ["h1"]);
});

t.test("spaces around items are ignored", async (t) => {
  t.same(hostSet(schedule(cluster, request(service("web", { [A + "host_label"]: " zone = a , disk=ssd " }), 2), 0)), ["h1"]);
});
