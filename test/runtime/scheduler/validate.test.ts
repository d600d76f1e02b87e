/** Label syntax validation: which label is wrong and what was expected. */
import t from "tap";
import { isDroverError } from "../../../runtime/protocol/errors";
import { assertValidSchedulingLabels, schedule, validateSchedulingLabels } from "../../../runtime/scheduler";
import { A, host, request, service, snapshot } from "./fixtures";

const valid: Array<Record<string, string>> = [
  {},
  { app: "web", "com.example.anything": "" },
  { [A + "host_label"]: "zone=a,disk=ssd" },
  { [A + "host_label_ne"]: "zone=a,zone=b" },
  { [A + "host_label_soft"]: "zone=a" },
  { [A + "host_label_soft_ne"]: "zone=a" },
  { [A + "container_label"]: "app=db,app=cache" },
  { [A + "container_label_ne"]: "io.rancher.stack_service.name=${stack_name}/${service_name}" },
  { [A + "container_label_soft"]: "app=db" },
  { [A + "container_label_soft_ne"]: "io.rancher.stack_service.name=$${stack_name}/$${service_name}" },
  { [A + "container"]: "db-1,shop_cache_1" },
  { [A + "container_ne"]: "${stack_name}-db-1" },
  { [A + "container_soft"]: "db-1" },
  { [A + "container_soft_ne"]: "db-1" },
  { "io.rancher.scheduler.global": "true" },
  { "io.rancher.scheduler.global": "FALSE" },
  { "IO.RANCHER.SCHEDULER.AFFINITY:HOST_LABEL": "zone=a" },
];

for (const labels of valid) {
  t.test(`valid: ${JSON.stringify(labels)}`, async (t) => {
    t.same(validateSchedulingLabels(labels), []);
  });
}

const invalid: Array<{ labels: Record<string, string>; key: string; message: RegExp }> = [
  { labels: { "io.rancher.scheduler.affinity:host_labels": "zone=a" }, key: "io.rancher.scheduler.affinity:host_labels", message: /unknown scheduling label \(did you mean io\.rancher\.scheduler\.affinity:host_label\?\); expected one of/ },
  { labels: { "io.rancher.scheduler.nope": "x" }, key: "io.rancher.scheduler.nope", message: /unknown scheduling label; expected one of io\.rancher\.scheduler\.affinity:host_label, / },
  { labels: { [A + "host_label"]: "" }, key: A + "host_label", message: /empty value; expected key=value pairs separated by commas, e\.g\. "zone=a,disk=ssd"/ },
  { labels: { [A + "container"]: "  " }, key: A + "container", message: /empty value; expected container names separated by commas/ },
  { labels: { [A + "host_label"]: "zone" }, key: A + "host_label", message: /item "zone" has no "="; expected key=value pairs/ },
  { labels: { [A + "container_label_ne"]: "=db" }, key: A + "container_label_ne", message: /item "=db" has an empty key/ },
  { labels: { [A + "host_label_soft"]: "zone=" }, key: A + "host_label_soft", message: /item "zone=" has an empty value/ },
  { labels: { [A + "host_label"]: "zone=a," }, key: A + "host_label", message: /item 2 is empty \(a doubled or trailing comma\?\)/ },
  { labels: { [A + "container_label"]: "app=db,,app=x" }, key: A + "container_label", message: /item 2 is empty/ },
  { labels: { [A + "container"]: "app=db" }, key: A + "container", message: /is a label, but this rule takes container names.*use io\.rancher\.scheduler\.affinity:container_label$/ },
  { labels: { [A + "container_soft_ne"]: "app=db" }, key: A + "container_soft_ne", message: /use io\.rancher\.scheduler\.affinity:container_label_soft_ne$/ },
  { labels: { [A + "container"]: "-bad name" }, key: A + "container", message: /item "-bad name" is not a container name/ },
  { labels: { [A + "host_label"]: "owner=${stack}" }, key: A + "host_label", message: /unknown macro "\$\{stack\}"; expected \$\{stack_name\} or \$\{service_name\}/ },
  { labels: { [A + "host_label"]: "owner=${stack_name" }, key: A + "host_label", message: /unclosed macro/ },
  { labels: { "io.rancher.scheduler.global": "yes" }, key: "io.rancher.scheduler.global", message: /expected "true" or "false", got "yes"/ },
  { labels: { [A + "host_label"]: "zone=a,zone=b" }, key: A + "host_label", message: /can never match: a host has one value for "zone", but this asks for both "a" and "b"/ },
  { labels: { [A + "container_label"]: "app=db", [A + "container_label_ne"]: "app=db" }, key: A + "container_label", message: /can never match: "app=db" is also forbidden by io\.rancher\.scheduler\.affinity:container_label_ne/ },
];

for (const c of invalid) {
  t.test(`invalid: ${JSON.stringify(c.labels)}`, async (t) => {
    const errors = validateSchedulingLabels(c.labels);
    t.equal(errors.length, 1, JSON.stringify(errors));
    t.equal(errors[0].labelKey, c.key);
    t.equal(errors[0].field, `labels[${JSON.stringify(c.key)}]`);
    t.match(errors[0].message, c.message);
    t.ok(errors[0].message.startsWith(`${c.key}: `), "the message names the label");
  });
}

t.test("every problem is reported, not just the first", async (t) => {
  const errors = validateSchedulingLabels({ [A + "host_label"]: "zone,disk=", "io.rancher.scheduler.globl": "true" });
  t.equal(errors.length, 3);
});

t.test("assertValidSchedulingLabels throws the API's 422 InvalidField", async (t) => {
  try {
    assertValidSchedulingLabels({ [A + "host_label"]: "zone" }, "service.labels");
    t.fail("no error");
  } catch (err) {
    t.ok(isDroverError(err));
    if (!isDroverError(err)) return;
    t.equal(err.code, "InvalidField");
    t.equal(err.httpStatus, 422);
    t.equal(err.field, 'service.labels["io.rancher.scheduler.affinity:host_label"]');
    t.match(err.message, /item "zone" has no "="/);
    t.same((err.detail?.errors as unknown[]).length, 1);
  }
  t.doesNotThrow(() => assertValidSchedulingLabels({ app: "x" }));
});

t.test("schedule() refuses invalid labels and an invalid count", async (t) => {
  const cluster = snapshot(host("h1"));
  t.throws(() => schedule(cluster, request(service("web", { [A + "host_label"]: "zone" }), 1), 0), { code: "InvalidField" });
  t.throws(() => schedule(cluster, request(service("web"), -1), 0), { code: "InvalidField", field: "scale" });
  t.throws(() => schedule(cluster, request(service("web"), 1.5), 0), { code: "InvalidField" });
});
