/** The typed form converts to Rancher's labels, so one engine serves both. */
import t from "tap";
import {
  SchedulingSpec,
  schedule,
  schedulingSpecFromLabels,
  schedulingSpecToLabels,
  validateSchedulingSpec,
  withSchedulingSpec,
} from "../../../runtime/scheduler";
import { A, host, hostSet, inst, request, service, snapshot } from "./fixtures";

const full: SchedulingSpec = {
  global: true,
  hostLabels: { zone: "a", disk: "ssd" },
  hostLabelsNot: { zone: ["b", "c"] },
  hostLabelsPreferred: { cpu: "fast" },
  hostLabelsAvoided: { spot: "true" },
  containerLabels: { app: "db" },
  containerLabelsNot: { "io.rancher.stack_service.name": "${stack_name}/${service_name}" },
  containerLabelsPreferred: { app: "cache" },
  containerLabelsAvoided: { app: "batch" },
  containers: ["db-1"],
  containersNot: ["db-2", "db-3"],
  containersPreferred: ["cache-1"],
  containersAvoided: ["batch-1"],
};

t.test("every typed field maps to its Rancher label", async (t) => {
  t.same(schedulingSpecToLabels(full), {
    "io.rancher.scheduler.global": "true",
    [A + "host_label"]: "zone=a,disk=ssd",
    [A + "host_label_ne"]: "zone=b,zone=c",
    [A + "host_label_soft"]: "cpu=fast",
    [A + "host_label_soft_ne"]: "spot=true",
    [A + "container_label"]: "app=db",
    [A + "container_label_ne"]: "io.rancher.stack_service.name=${stack_name}/${service_name}",
    [A + "container_label_soft"]: "app=cache",
    [A + "container_label_soft_ne"]: "app=batch",
    [A + "container"]: "db-1",
    [A + "container_ne"]: "db-2,db-3",
    [A + "container_soft"]: "cache-1",
    [A + "container_soft_ne"]: "batch-1",
  });
  t.same(schedulingSpecToLabels({}), {});
  t.same(schedulingSpecToLabels({ global: false, hostLabels: {} }), { "io.rancher.scheduler.global": "false" });
});

t.test("labels → typed → labels round-trips", async (t) => {
  t.same(schedulingSpecFromLabels(schedulingSpecToLabels(full)), full);
  t.same(schedulingSpecFromLabels({ app: "x" }), {});
});

t.test("withSchedulingSpec merges typed rules into existing labels", async (t) => {
  t.same(withSchedulingSpec({ app: "web", [A + "host_label"]: "zone=a" }, { hostLabels: { disk: "ssd" }, global: true }), {
    app: "web",
    [A + "host_label"]: "zone=a,disk=ssd",
    "io.rancher.scheduler.global": "true",
  });
});

t.test("the typed form schedules exactly like the labels it stands for", async (t) => {
  const cluster = snapshot(
    host("h1", { zone: "a" }, [inst("db-1", { labels: { app: "db" } })]),
    host("h2", { zone: "a" }),
    host("h3", { zone: "b" }),
  );
  const spec: SchedulingSpec = { hostLabels: { zone: "a" }, containerLabelsNot: { app: "db" } };
  const typed = schedule(cluster, request(service("web", schedulingSpecToLabels(spec)), 2), 3);
  const raw = schedule(cluster, request(service("web", { [A + "host_label"]: "zone=a", [A + "container_label_ne"]: "app=db" }), 2), 3);
  t.same(typed, raw);
  t.same(hostSet(typed), ["h2"]);
});

t.test("typed validation names typed fields", async (t) => {
  const cases: Array<[SchedulingSpec, string, RegExp]> = [
    [{ hostLabels: { "": "a" } }, 'scheduling.hostLabels[""]', /must be non-empty/],
    [{ hostLabels: { "a=b": "c" } }, 'scheduling.hostLabels["a=b"]', /no "," or "="/],
    [{ hostLabelsNot: { zone: "a,b" } }, 'scheduling.hostLabelsNot["zone"]', /contains ","/],
    [{ hostLabelsPreferred: { zone: "" } }, 'scheduling.hostLabelsPreferred["zone"]', /non-empty string/],
    [{ containerLabels: { app: [] } }, 'scheduling.containerLabels["app"]', /at least one value/],
    [{ containersNot: ["a,b"] }, "scheduling.containersNot[0]", /contains ","/],
    [{ containers: "db-1" as unknown as string[] }, "scheduling.containers", /list of container names/],
    [{ hostLabels: ["zone=a"] as unknown as Record<string, string> }, "scheduling.hostLabels", /expected an object/],
    [{ global: "yes" as unknown as boolean }, "scheduling.global", /boolean/],
    [{ hostLabel: { zone: "a" } } as unknown as SchedulingSpec, "scheduling.hostLabel", /unknown field/],
    [{ hostLabels: { zone: ["a", "b"] } }, "scheduling.hostLabels", /can never match/],
    [{ containersNot: ["${stack}-db"] }, "scheduling.containersNot", /unknown macro/],
  ];
  for (const [spec, field, message] of cases) {
    const errors = validateSchedulingSpec(spec);
    t.equal(errors[0]?.field, field, JSON.stringify(spec));
    t.match(errors[0]?.message, message, JSON.stringify(spec));
    t.ok(errors[0]?.message.startsWith(`${field}: `), "message starts with the field");
  }
  t.same(validateSchedulingSpec(full), []);
});
