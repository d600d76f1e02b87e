import Redis from "ioredis";
import t from "tap";
import { certificateProvider, environmentProvider, loadBalancerProvider, serviceProvider, stackProvider, UNKNOWN } from "../../provider";
import { makeKeys } from "../../runtime/protocol/keys";
import { RedisStore } from "../../runtime/store/redis-store";
import { makeCert } from "../support/certs";
import { removeOnceRemoving } from "../runtime/api/lb-removal-stand-in";
import { redisUrl, serverForTest } from "./server-fixture";

// drover:LoadBalancer's provider methods called directly: check (field names, unknowns),
// diff (replace vs update), then create/read/update/delete against a real server.
const conn = { endpoint: "http://127.0.0.1:1", apiKey: "drk_test", envId: "env1" };
const rule = { sourcePort: 80, targetServiceId: "svc1", targetPort: 8080 };
const lb = { ...conn, stackId: "stk1", name: "edge", portRules: [rule] };
const props = async (news: any) => (await loadBalancerProvider.check({}, news)).failures.map((f: any) => f.property).sort();

t.test("check names every bad field and tolerates unknowns", async (t) => {
  t.same(await props(lb), [], "a minimal load balancer is valid (targets are the server's to check)");
  const bad = await loadBalancerProvider.check({}, {
    ...lb, name: "Edge", scale: -1, global: "no",
    portRules: [{ ...rule, sourcePort: 0 }, { ...rule, protocol: "udp" }, { ...rule, path: "x" }, { ...rule, protocol: "tcp", hostname: "a.b" }],
  });
  t.same(bad.failures.map((f: any) => f.property).sort(),
    ["global", "name", "portRules[0].sourcePort", "portRules[1].protocol", "portRules[2].path", "portRules[3].hostname", "scale"].sort());
  for (const f of bad.failures) t.ok(f.reason.startsWith(f.property), `reason starts with ${f.property}`);
  t.same(await props({ ...lb, portRules: [{ ...rule, protocol: "https" }] }), ["certificateIds"], "https needs a certificate");
  t.same(await props({ ...lb, portRules: [{ ...rule, protocol: "https" }], certificateIds: ["1ce1"], defaultCertificateId: "1ce1" }), [], "whether a certificate exists is the server's to say");
  t.same(await props({ ...lb, certificateIds: ["1ce1"], defaultCertificateId: "1ce2" }), ["defaultCertificateId"], "the default must be listed");
  t.same(await props({ ...lb, portRules: [{ ...rule, protocol: "https" }], certificateIds: [UNKNOWN], defaultCertificateId: UNKNOWN }), [], "certificate ids from Certificate resources, unknown in preview");
  t.same(await props({ ...lb, certificateIds: UNKNOWN, defaultCertificateId: "1ce1" }), [], "a default checked only once certificateIds are known");
  const tcp = { ...rule, protocol: "tcp" };
  t.same(await props({ ...lb, portRules: [{ ...tcp, protocol: "tls", path: "/x" }, { ...rule, proxyProtocol: true }] }), ["portRules[0].path", "portRules[1].proxyProtocol"], "tls takes no path; http no proxyProtocol");
  t.same(await props({ ...lb, portRules: [tcp], stickiness: { cookie: "s" } }), ["stickiness"], "stickiness needs an http rule");
  t.same(await props({ ...lb, timeouts: { connect: 0, server: UNKNOWN }, drainTimeoutMillis: 600001 }), ["drainTimeoutMillis", "timeouts.connect"], "timeouts and drain bounds");
  t.same(await props({ ...lb, portRules: [{ ...tcp, protocol: "tls", hostname: "*.example.com", proxyProtocol: true }], timeouts: { client: 1000 }, drainTimeoutMillis: 0 }), [], "a tls rule with proxyProtocol");
  t.same(await props({ ...conn, stackId: "stk1", name: "edge" }), ["portRules"], "portRules required");
  t.same(await props({ ...lb, apiKey: "has space" }), [""], "a secret input's failure names no property (the engine would print its value)");
  t.same(await props({ ...lb, envId: undefined }), ["envId"]);
  t.same(await props({ ...lb, portRules: UNKNOWN, stackId: UNKNOWN, name: UNKNOWN, labels: UNKNOWN, scheduling: UNKNOWN, scale: UNKNOWN }), [], "unknown where a list or object is expected");
  t.same(await props({ ...lb, portRules: [{ ...rule, targetServiceId: UNKNOWN, sourcePort: UNKNOWN }, UNKNOWN] }), [], "unknown inside rules");
  t.same(await props({ ...lb, portRules: [UNKNOWN, { ...rule, targetPort: 0 }] }), ["portRules[1].targetPort"], "known bad rules still fail");
});

t.test("diff: stack and name replace, the rest updates, unknown is a change", async (t) => {
  const old = { ...lb, loadBalancerId: "lb1", state: "active", served: false };
  t.equal((await loadBalancerProvider.diff("lb1", old, lb)).changes, false, "computed outputs are not compared");
  const rules = await loadBalancerProvider.diff("lb1", old, { ...lb, portRules: [{ ...rule, targetPort: 9090 }] });
  t.same([rules.changes, rules.replaces], [true, []], "port rules update in place");
  const moved = await loadBalancerProvider.diff("lb1", old, { ...lb, stackId: "stk2" });
  t.same([moved.replaces, moved.deleteBeforeReplace], [["stackId"], true], "another stack replaces, delete first (same name)");
  const unknown = await loadBalancerProvider.diff("lb1", old, { ...lb, name: UNKNOWN });
  t.same([unknown.changes, unknown.replaces], [true, ["name"]], "an unknown name is a replace");
});

t.test("create, read, update and delete against a server", async (t) => {
  const server = await serverForTest(t);
  const env = await environmentProvider.create({ endpoint: server.url, adminKey: server.adminKey, name: `lb-${server.prefix}` });
  t.teardown(() => environmentProvider.delete(env.id, env.outs));
  const c = { endpoint: server.url, apiKey: env.outs.apiKey, envId: env.id };
  const stack = await stackProvider.create({ ...c, name: "demo" });
  const web = await serviceProvider.create({ ...c, stackId: stack.id, name: "web", image: "local/busybox", scale: 0 });

  const cert = makeCert({ cn: "www.example.com", sans: ["www.example.com"] });
  const certRes = await certificateProvider.create({ ...c, name: "www", ...cert });
  const inputs = {
    ...c, stackId: stack.id, name: "edge", scheduling: { hostLabels: { zone: "a" } },
    portRules: [{ sourcePort: 80, hostname: "*.example.com", targetServiceId: web.id, targetPort: 80 }, { sourcePort: 443, protocol: "https", targetServiceId: web.id, targetPort: 80 }],
    certificateIds: [certRes.id], stickiness: { cookie: "SRV" }, timeouts: { client: 30000 },
  };
  const created = await loadBalancerProvider.create(inputs);
  t.match(created.outs, { ...inputs, loadBalancerId: created.id, state: "active", served: false });
  t.notOk(JSON.stringify(created.outs).includes("undefined") || Object.values(created.outs).some((v) => v === undefined), "no undefined outputs");
  const read = await loadBalancerProvider.read(created.id, created.outs);
  t.same(read.props, created.outs, "read after create: no drift (protocol default, scheduling as given)");
  t.equal((await loadBalancerProvider.diff(created.id, read.props, inputs)).changes, false, "no diff after refresh");

  const updated = await loadBalancerProvider.update(created.id, created.outs, { ...inputs, scale: 2 });
  t.equal(updated.outs.scale, 2);
  const res = await fetch(`${server.url}/v1/environments/${env.id}/loadbalancers/${created.id}`, { headers: { authorization: `Bearer ${c.apiKey}` } });
  const onServer = (await res.json()) as any;
  t.same([onServer.spec.scale, onServer.spec.labels["io.rancher.scheduler.affinity:host_label"]], [2, "zone=a"], "the server has the update");

  // Drift made by hand shows in read and is repaired by the next diff.
  await fetch(`${server.url}/v1/environments/${env.id}/loadbalancers/${created.id}`, {
    method: "PATCH", headers: { authorization: `Bearer ${c.apiKey}`, "content-type": "application/json" }, body: JSON.stringify({ scale: 5 }),
  });
  const drifted = await loadBalancerProvider.read(created.id, updated.outs);
  t.equal(drifted.props.scale, 5, "read shows drift");
  t.same((await loadBalancerProvider.diff(created.id, drifted.props, { ...inputs, scale: 2 })).replaces, [], "repaired in place");

  const create409 = await loadBalancerProvider.create(inputs).catch((e: Error) => e);
  t.match((create409 as Error).message, /409 Conflict: .*name/, "a taken name fails with the server's message");

  // Delete waits until the server has removed it (the reconciler does, once its instances are stopped).
  const redis = new Redis(redisUrl);
  t.teardown(() => redis.disconnect());
  const store = new RedisStore(redis, makeKeys(server.prefix));
  await Promise.all([loadBalancerProvider.delete(created.id, updated.outs), removeOnceRemoving(store, env.id, created.id)]);
  t.equal((await store.get(env.id, "loadBalancer", created.id)), undefined, "gone when delete returns");
  t.equal((await loadBalancerProvider.read(created.id, updated.outs)).id, undefined, "read: gone");
  await loadBalancerProvider.delete(created.id, updated.outs);
  t.pass("deleting twice succeeds");
  await certificateProvider.delete(certRes.id, certRes.outs);
  t.pass("then its certificate can go");
});
