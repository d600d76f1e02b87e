import t from "tap";
import { serviceProvider, stackProvider, environmentProvider, UNKNOWN } from "../../provider";
import { blamedField, dryRunBody, judgeDryRun, needsDryRun } from "../../provider/service-placement";
import { serverForTest } from "./server-fixture";

// A Service's healthCheck and upgradeStrategy inputs (validated by the API's own validator,
// each failure naming its field), what updates in place, failures on secret inputs without
// a property, and the preview's dry-run placement: pure parts, then against a real server.
const conn = { endpoint: "http://127.0.0.1:1", apiKey: "drk_test", envId: "env1" };
const svc = { ...conn, stackId: "stk1", name: "web", image: "local/busybox" };
const failuresOf = async (news: any) => (await serviceProvider.check({}, news)).failures as Array<{ property: string; reason: string }>;

t.test("healthCheck and upgradeStrategy: valid forms pass, each bad field fails by name", async (t) => {
  t.same(await failuresOf({ ...svc, healthCheck: { port: 80 } }), [], "a port is enough (Rancher's defaults)");
  t.same(await failuresOf({
    ...svc, healthCheck: { port: 80, requestLine: "GET /healthz HTTP/1.0", interval: 1000, responseTimeout: 500, healthyThreshold: 1, unhealthyThreshold: 2,
      initializingTimeout: 10000, reinitializingTimeout: 10000, strategy: "recreateOnQuorum", quorum: 1 },
    upgradeStrategy: { batchSize: 2, intervalMillis: 0, startFirst: true },
  }), [], "every field");
  const cases: Array<[string, any, RegExp]> = [
    ["healthCheck.port", { healthCheck: { port: 70000 } }, /1.*65535/],
    ["healthCheck.port", { healthCheck: { interval: 1000 } }, /required/],
    ["healthCheck.responseTimeout", { healthCheck: { port: 80, interval: 1000, responseTimeout: 2000 } }, /at most the interval/],
    ["healthCheck.requestLine", { healthCheck: { port: 80, requestLine: "GET /\r\nX: y HTTP/1.0" } }, /request line/],
    ["healthCheck.strategy", { healthCheck: { port: 80, strategy: "restart" } }, /one of none, recreate, recreateOnQuorum/],
    ["healthCheck.quorum", { healthCheck: { port: 80, strategy: "recreateOnQuorum" } }, /required/],
    ["healthCheck.healthyThreshold", { healthCheck: { port: 80, healthyThreshold: 0 } }, /1/],
    ["upgradeStrategy.batchSize", { upgradeStrategy: { batchSize: 0 } }, /1/],
    ["upgradeStrategy.startFirst", { upgradeStrategy: { startFirst: "yes" } }, /boolean|true or false/],
    ["healthCheck", { healthCheck: "tcp:80" }, /object/],
  ];
  for (const [field, extra, words] of cases) {
    const failures = await failuresOf({ ...svc, ...extra });
    t.same(failures.map((f) => f.property), [field], `${field}: ${JSON.stringify(extra)}`);
    t.match(failures[0]?.reason ?? "", new RegExp(`^${field.replace(/\./g, "\\.")}: .*${words.source}`), `the reason starts with ${field} and says what is expected`, { reason: failures[0]?.reason });
  }
  t.same(await failuresOf({ ...svc, healthCheck: { port: UNKNOWN, strategy: UNKNOWN }, upgradeStrategy: UNKNOWN }), [], "values preview does not know yet");
});

t.test("a new image, env, health check or upgrade strategy updates the service in place", async (t) => {
  const old = { ...svc, image: "a:1", env: { A: "1" }, serviceId: "svc1", state: "active", specVersion: 1 };
  for (const [what, news] of [
    ["image", { ...svc, image: "a:2", env: { A: "1" } }],
    ["env", { ...svc, image: "a:1", env: { A: "2" } }],
    ["healthCheck", { ...svc, image: "a:1", env: { A: "1" }, healthCheck: { port: 80 } }],
    ["upgradeStrategy", { ...svc, image: "a:1", env: { A: "1" }, upgradeStrategy: { batchSize: 2 } }],
  ] as const) {
    const d = await serviceProvider.diff("svc1", old, news);
    t.same([d.changes, d.replaces, d.deleteBeforeReplace], [true, [], false], `${what}: an update, not a replace`);
  }
  const same = await serviceProvider.diff("svc1", old, { ...svc, image: "a:1", env: { A: "1" }, state: "active" });
  t.equal(same.changes, false, "no change");
  for (const state of ["degraded", "error: 1 of 1 instances could not be placed", "inactive"]) {
    const d = await serviceProvider.diff("svc1", { ...old, state }, { ...svc, image: "a:1", env: { A: "1" }, state: "active" });
    t.same([d.changes, d.replaces], [true, []], `a refresh that found it ${state}: an in-place update repairs it`);
  }
});

t.test("a failure on a secret input names no property (the engine would print the value beside it)", async (t) => {
  const secret = "bad key with spaces SECRET-MARKER";
  const failures = await failuresOf({ ...svc, apiKey: secret });
  t.same(failures.map((f) => f.property), [""], "no property");
  t.match(failures[0]?.reason, /^apiKey: /, "the reason still starts with the field");
  t.notOk(JSON.stringify(failures).includes("SECRET-MARKER"), "and quotes nothing of it");
  const env = (await environmentProvider.check({}, { endpoint: conn.endpoint, name: "prod", adminKey: secret })).failures;
  t.same(env.map((f: any) => [f.property, /^adminKey: /.test(f.reason)]), [["", true]], "the environment's adminKey too");
  const stack = (await stackProvider.check({}, { ...conn, name: "demo", apiKey: secret })).failures;
  t.same(stack.map((f: any) => f.property), [""], "the stack's apiKey too");
});

t.test("dry-run placement, the pure parts", async (t) => {
  const base = { ...svc, scale: 2, command: ["sleep", "1"] };
  t.ok(needsDryRun({}, base), "a create");
  t.notOk(needsDryRun({ ...base, state: "active", placement: { node1: 2 }, waitTimeoutSeconds: 10 }, { ...base, waitTimeoutSeconds: 20 }), "only provider fields changed: no I/O");
  t.ok(needsDryRun(base, { ...base, env: { A: "1" } }), "any spec field");
  t.ok(needsDryRun(base, { ...base, image: UNKNOWN }), "an unknown spec field");
  t.same(dryRunBody({ ...base, image: UNKNOWN, env: { A: UNKNOWN }, links: { db: UNKNOWN, cache: "svc2" }, command: UNKNOWN }),
    { stackId: "stk1", name: "web", image: "preview/unknown", scale: 2, links: { cache: "svc2" } },
    "what cannot change the placement is left out while unknown (a link to a service not created yet, say)");
  t.equal(dryRunBody({ ...base, scheduling: { hostLabels: { zone: UNKNOWN } } }), undefined, "a placing field unknown: no dry run");
  t.equal(dryRunBody({ ...base, stackId: UNKNOWN }), undefined, "which service it is unknown: no dry run");
  t.equal(blamedField({ ...base, scheduling: { hostLabels: { zone: "a" } } }, { ...base, scheduling: { hostLabels: { zome: "a" } } }), "scheduling");
  t.equal(blamedField(base, { ...base, scale: 5 }), "scale");
  t.equal(blamedField(base, { ...base, image: "y" }), "scheduling", "nothing placing changed: scheduling by default");

  const refused = judgeDryRun({ ok: false, instances: [], message: "2 of 2 ...", reasons: { node1: ["host_label zome=a not present"], node2: ["host_label zome=a not present", "host is reconnecting"] } },
    base, { ...base, scheduling: { hostLabels: { zome: "a" } } }, true);
  t.same(refused.failures, [{
    property: "scheduling",
    reason: "scheduling: no host can take service web (the server's dry-run placement): node1: host_label zome=a not present; node2: host_label zome=a not present, host is reconnecting; nothing was changed",
  }], "an update no host can take: the reason per host");
  t.same(judgeDryRun({ ok: false, instances: [], reasons: {} }, {}, base, false), { placement: {}, failures: [] }, "no host at all: the service waits for hosts");
  t.same(judgeDryRun({ ok: true, instances: [{ hostName: "node2" }, { hostName: "node1" }, { hostName: "node2" }] }, {}, base, false),
    { placement: { node1: 1, node2: 2 }, failures: [] }, "placement: host name → instances");
  t.match(judgeDryRun({ ok: true, instances: [], skipped: { node1: ["host_label zone=b not present"] } }, base, { ...base, global: true }, true).failures[0]?.reason,
    /no host can take global service web .*node1: host_label zone=b not present/, "a global service no host takes");
});

t.test("dry-run placement in check(), against a real server (no hosts: placement by reference checks only)", async (t) => {
  const server = await serverForTest(t);
  const env = await environmentProvider.create({ endpoint: server.url, adminKey: server.adminKey, name: `svcin-${server.prefix}` });
  t.teardown(() => environmentProvider.delete(env.id, env.outs));
  const live = { endpoint: server.url, apiKey: env.outs.apiKey, envId: env.id };
  const stack = await stackProvider.create({ ...live, name: "demo" });
  const db = await serviceProvider.create({ ...live, stackId: stack.id, name: "db", image: "local/busybox", scale: 0 });
  const news = { ...live, stackId: stack.id, name: "api", image: "local/busybox", scale: 1, links: { db: db.id } };

  const ok = await serviceProvider.check({}, news);
  t.same(ok.failures, [], "a valid new service");
  t.same([ok.inputs.state, ok.inputs.placement], ["active", {}], "check adds the wanted state, and the placement (no host: none yet)");

  const missing = await serviceProvider.check({}, { ...news, links: { db: "svc-nope" } });
  t.same(missing.failures.map((f: any) => f.property), ["links"], "a link to a missing service fails the preview");
  t.match(missing.failures[0]?.reason, /^links\.db: .*svc-nope.*dry-run placement/);
  const taken = await serviceProvider.check({}, { ...news, name: "db" });
  t.same(taken.failures.map((f: any) => f.property), ["name"], "a name another service holds fails the preview");
  t.match(taken.failures[0]?.reason, /^name: a service named db already exists in stack demo/);
  const gone = await serviceProvider.check({}, { ...news, stackId: "stk-nope" });
  t.same(gone.failures.map((f: any) => f.property), ["stackId"], "a missing stack too");

  const oldInputs = (await serviceProvider.check({}, { ...live, stackId: stack.id, name: "db", image: "local/busybox", scale: 0 })).inputs;
  const update = await serviceProvider.check(oldInputs, { ...oldInputs, image: "local/busybox:v2", links: { self: "svc-nope" } });
  t.same(update.failures.map((f: any) => f.property), ["links"], "an update of an existing service is dry-run as one (the name is its own)");
  const key = await serviceProvider.check({}, { ...news, apiKey: "drk_wrong-key" });
  t.same(key.failures.map((f: any) => [f.property, /^apiKey: the server refused the key/.test(f.reason)]), [["", true]], "a wrong key: said, not printed");
  const unreachable = await serviceProvider.check({}, { ...news, endpoint: "http://127.0.0.1:1" });
  t.same([unreachable.failures, unreachable.inputs.placement], [[], undefined], "a server it cannot reach: no placement to show, nothing failed (up will say)");
});
