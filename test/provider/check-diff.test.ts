import t from "tap";
import { environmentProvider, serviceProvider, stackProvider, UNKNOWN } from "../../provider";

// check() and diff() called directly: local, pure, every failure names its field, preview's
// unknown sentinel tolerated anywhere.
const conn = { endpoint: "http://127.0.0.1:1", apiKey: "drk_test", envId: "env1" };
const svc = { ...conn, stackId: "stk1", name: "web", image: "local/busybox" };
const props = async (p: any, news: any) => (await p.check({}, news)).failures.map((f: any) => f.property);

t.test("check failures name their field", async (t) => {
  t.same(await props(environmentProvider, { endpoint: conn.endpoint, adminKey: "k", name: "Bad Name" }), ["name"]);
  t.same(await props(environmentProvider, { endpoint: conn.endpoint, adminKey: "k", name: "ok", network: { cidr: "10.42.0.1/16" } }), ["network.cidr"]);
  t.same(await props(environmentProvider, { adminKey: "k", name: "ok" }), ["endpoint"], "endpoint required without config");
  t.same(await props(environmentProvider, { endpoint: "ftp://x", adminKey: "k", name: "ok" }), ["endpoint"]);
  t.same(await props(stackProvider, { ...conn, name: "demo", description: 5 }), ["description"]);
  t.same(await props(stackProvider, { ...conn, name: "demo", stackWideDiscovery: "yes" }), ["stackWideDiscovery"]);
  t.same(await props(stackProvider, { endpoint: conn.endpoint, name: "demo" }), ["envId"]);
  const bad = await serviceProvider.check({}, {
    ...svc, image: "", ports: ["80:80", { containerPort: 70000 }], env: { "1BAD": "x" }, scale: -1, global: "yes",
    restartPolicy: "sometimes", scheduling: { hostLabels: 5 }, command: "sleep", waitTimeoutSeconds: 0,
  });
  const fields = bad.failures.map((f: any) => f.property).sort();
  t.same(fields, ["command", "env[\"1BAD\"]", "global", "image", "ports[1].containerPort", "restartPolicy", "scale", "scheduling.hostLabels", "waitTimeoutSeconds"].sort(), "one failure per bad field");
  for (const f of bad.failures) t.match(f.reason, f.property === "env[\"1BAD\"]" ? /^env/ : new RegExp(`^${f.property.replace(/[[\]."]/g, "\\$&")}`), `reason starts with ${f.property}`);
  t.same(await props(serviceProvider, { ...svc, waitTimeoutSeconds: 10 }), [], "provider-only fields are not API fields");
  t.same(await props(serviceProvider, svc), [], "a minimal service is valid");
  const bare = (await serviceProvider.check({}, { ...svc, ports: ["8080"] })).failures;
  t.same(bare.map((f: any) => f.property), ["ports[0]"], "a bare container port is refused, as the API does");
  t.match(bare[0]?.reason, /docker run -p 8080.*random host port.*"8080:8080".*\{"containerPort": 8080\}/, "saying what Docker would do and what to write");
  t.same(await props(serviceProvider, { ...svc, links: { db: "svc9" }, scheduling: { hostLabels: { zone: "a" } } }), [], "links are checked by the server");
});

t.test("check tolerates the unknown sentinel anywhere", async (t) => {
  t.same(await props(environmentProvider, { endpoint: UNKNOWN, adminKey: UNKNOWN, name: UNKNOWN, network: UNKNOWN }), []);
  t.same(await props(stackProvider, { endpoint: UNKNOWN, apiKey: UNKNOWN, envId: UNKNOWN, name: UNKNOWN }), []);
  t.same(await props(serviceProvider, {
    ...svc, stackId: UNKNOWN, name: UNKNOWN, image: UNKNOWN, command: UNKNOWN, env: UNKNOWN, ports: UNKNOWN, scale: UNKNOWN,
    global: UNKNOWN, links: UNKNOWN, labels: UNKNOWN, scheduling: UNKNOWN, restartPolicy: UNKNOWN, waitTimeoutSeconds: UNKNOWN,
  }), [], "unknown where arrays and objects are expected");
  t.same(await props(serviceProvider, { ...svc, ports: [UNKNOWN, "8080:80"], env: { A: UNKNOWN }, links: { db: UNKNOWN } }), [], "unknown inside lists and maps");
  t.same(await props(serviceProvider, { ...svc, ports: [UNKNOWN, "nonsense"] }), ["ports[1]"], "known bad items still fail");
});

t.test("diff: replace for immutable fields, update for the rest, unknown is a change", async (t) => {
  const old = { ...svc, scale: 1, serviceId: "s1", state: "active" };
  const same = await serviceProvider.diff("s1", old, { ...svc, scale: 1 });
  t.equal(same.changes, false, "computed outputs are not compared");
  const scale = await serviceProvider.diff("s1", old, { ...svc, scale: 2 });
  t.same([scale.changes, scale.replaces], [true, []], "scale updates in place");
  t.ok(scale.stables.includes("serviceId"), "an update keeps serviceId: declared stable");
  const renamed = await serviceProvider.diff("s1", old, { ...svc, name: "web2", scale: 1 });
  t.same([renamed.replaces, renamed.deleteBeforeReplace], [["name"], false], "a new name replaces, create first");
  t.notOk(renamed.stables.includes("serviceId"), "a replacement gets a new serviceId: not stable");
  const moved = await serviceProvider.diff("s1", old, { ...svc, stackId: "stk2", scale: 1 });
  t.same([moved.replaces, moved.deleteBeforeReplace], [["stackId"], true], "same name: delete first (names are unique)");
  const unknownImage = await serviceProvider.diff("s1", old, { ...svc, image: UNKNOWN, scale: 1 });
  t.same([unknownImage.changes, unknownImage.replaces], [true, []], "unknown mutable field: update");
  const unknownStack = await serviceProvider.diff("s1", old, { ...svc, stackId: UNKNOWN, scale: 1 });
  t.same(unknownStack.replaces, ["stackId"], "unknown immutable field: replace");
  const env = await environmentProvider.diff("e1", { name: "a", endpoint: conn.endpoint, envId: "e1", apiKey: "x" }, { name: "a", endpoint: conn.endpoint, description: "d" });
  t.same(env.replaces, ["description"], "an environment cannot be updated: description replaces");
  const stack = await stackProvider.diff("k1", { ...conn, name: "demo", stackId: "k1" }, { ...conn, name: "demo", description: "d" });
  t.same([stack.changes, stack.replaces], [true, []], "stack description updates");
  const discovery = await stackProvider.diff("k1", { ...conn, name: "demo", stackId: "k1" }, { ...conn, name: "demo", stackWideDiscovery: true });
  t.same([discovery.changes, discovery.replaces], [true, []], "stack-wide discovery updates in place");
  const keyOrder = await serviceProvider.diff("s1", { ...old, env: { A: "1", B: "2" } }, { ...svc, scale: 1, env: { B: "2", A: "1" } });
  t.equal(keyOrder.changes, false, "maps compare by content");
});
