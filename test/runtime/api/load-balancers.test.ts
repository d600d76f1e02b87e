/**
 * /v1/environments/:envId/loadbalancers: create, list (filters), get, PUT, PATCH, DELETE
 * (→ removing; the record goes once its instances are stopped); every bad field is refused
 * naming the field with Redis left exactly as it was; names are unique within a stack
 * (shared with services); removing a targeted service drops its rules; deleting a stack
 * marks its load balancers removing; purging the environment removes every key.
 */
import t from "tap";
import { makeCert } from "../../support/certs";
import { apiFixture, seedEnv } from "./api-fixture";
import { removeOnceRemoving } from "./lb-removal-stand-in";

const cert = makeCert({ cn: "www.example.com", sans: ["www.example.com"] });

t.test("load balancers: lifecycle, filters and the service cascade", async (t) => {
  const f = await apiFixture(t);
  const { env, stack, service } = await seedEnv(f);
  const base = `/v1/environments/${env.id}`;
  const call = (method: string, path: string, body?: unknown) => f.call(method, base + path, { key: env.apiKey, body });
  const rule = { sourcePort: 80, protocol: "http", hostname: "www.example.com", path: "/app", targetServiceId: service.id, targetPort: 80, priority: 2 };

  const created = await call("POST", "/loadbalancers", { stackId: stack.id, name: "lb", portRules: [rule], scale: 2, labels: { tier: "edge" }, scheduling: { hostLabels: { zone: "a" } } });
  t.equal(created.status, 201, created.text);
  t.match(created.body, {
    type: "loadBalancer", id: /^1lb/, name: "lb", stackId: stack.id, state: "active", transitioning: "yes", served: false, instances: [],
    spec: { portRules: [rule], certificateIds: [], scale: 2, global: false, labels: { tier: "edge", "io.rancher.scheduler.affinity:host_label": "zone=a" }, drainTimeoutMillis: 2000 },
  });
  t.equal(created.body.links[`target:0`], `${f.url}${base}/services/${service.id}`, "a link per rule target");
  const lbId = created.body.id;

  // Defaults: protocol http, scale 1, no certificates.
  const tcp = await call("POST", "/loadbalancers", { stackId: stack.id, name: "tcp", portRules: [{ sourcePort: 5432, protocol: "tcp", targetServiceId: service.id, targetPort: 5432 }], global: true });
  t.equal(tcp.status, 201, tcp.text);
  t.same(tcp.body.spec.global, true);

  const list = await call("GET", "/loadbalancers?global=true");
  t.same(list.body.data.map((lb: any) => lb.name), ["tcp"], "filter global=true");
  t.same((await call("GET", `/loadbalancers?labels.tier=edge`)).body.data.map((lb: any) => lb.id), [lbId], "filter by label");
  t.same((await call("GET", `/loadbalancers?stackId=${stack.id}&name_like=l%25`)).body.data.map((lb: any) => lb.id), [lbId], "filter by stackId and name_like");
  t.equal((await call("GET", `/loadbalancers/${lbId}`)).body.name, "lb", "get");

  const patched = await call("PATCH", `/loadbalancers/${lbId}`, { scale: 3 });
  t.equal(patched.status, 200, patched.text);
  t.same([patched.body.spec.scale, patched.body.spec.portRules], [3, [rule]], "PATCH keeps the other fields");
  const certId = (await call("POST", "/certificates", { name: "www", ...cert })).body.id;
  const put = await call("PUT", `/loadbalancers/${lbId}`, { portRules: [{ sourcePort: 443, protocol: "https", targetServiceId: service.id, targetPort: 80 }], certificateIds: [certId], defaultCertificateId: certId });
  t.equal(put.status, 200, put.text);
  t.same([put.body.spec.scale, put.body.spec.labels, put.body.spec.defaultCertificateId], [1, {}, certId], "PUT resets what it does not give");
  t.equal(put.body.links["certificate:0"], `${f.url}${base}/certificates/${certId}`, "a link per certificate");

  // Names are shared with services within a stack.
  t.equal((await call("POST", "/loadbalancers", { stackId: stack.id, name: "lb", portRules: [rule] })).status, 409, "second lb with the same name");
  const clash = await call("POST", "/services", { stackId: stack.id, name: "lb", image: "busybox" });
  t.same([clash.status, clash.body.fieldName], [409, "name"], "a service cannot take a load balancer's name");
  t.same((await call("POST", "/loadbalancers", { stackId: stack.id, name: "nginx", portRules: [rule] })).status, 409, "nor the reverse");

  // Deleting the targeted service is allowed and drops the rules that target it (Rancher's behaviour).
  const other = await call("POST", "/services", { stackId: stack.id, name: "api", image: "busybox" });
  await call("PATCH", `/loadbalancers/${lbId}`, { portRules: [{ sourcePort: 443, protocol: "https", targetServiceId: service.id, targetPort: 80 }, { sourcePort: 443, protocol: "https", path: "/api", targetServiceId: other.body.id, targetPort: 8080 }] });
  t.equal((await call("DELETE", `/services/${service.id}`)).status, 202, "targeted service deleted");
  const after = await call("GET", `/loadbalancers/${lbId}`);
  t.same(after.body.spec.portRules.map((r: any) => r.targetServiceId), [other.body.id], "only the rule to the remaining service is left");
  t.same((await call("GET", `/loadbalancers/${tcp.body.id}`)).body.spec.portRules, [], "an lb whose only target went has no rules left");

  const del = await call("DELETE", `/loadbalancers/${tcp.body.id}`);
  t.same([del.status, del.body.state, del.body.transitioning], [202, "removing", "yes"], "DELETE marks it removing (its instances go first)");
  t.equal((await call("GET", `/loadbalancers/${tcp.body.id}`)).body.state, "removing", "GET shows it removing");
  const again = await call("DELETE", `/loadbalancers/${tcp.body.id}`);
  t.same([again.status, again.body.state], [202, "removing"], "a second DELETE answers the same");
  const patchRemoving = await call("PATCH", `/loadbalancers/${tcp.body.id}`, { scale: 2 });
  t.same([patchRemoving.status, patchRemoving.body.code], [409, "Conflict"], "a removing load balancer takes no PATCH");
  t.match(patchRemoving.body.message, /is removing; it takes no changes/);
  t.equal((await call("PUT", `/loadbalancers/${tcp.body.id}`, { portRules: [{ sourcePort: 1, targetServiceId: other.body.id, targetPort: 1 }] })).status, 409, "nor PUT");
  const reuse = { stackId: stack.id, name: "tcp", portRules: [{ sourcePort: 1, targetServiceId: other.body.id, targetPort: 1 }] };
  const taken = await call("POST", "/loadbalancers", reuse);
  t.same([taken.status, taken.body.fieldName], [409, "name"], "its name stays taken while it is removing");
  t.match(taken.body.message, /being removed/);
  await removeOnceRemoving(f.store, env.id, tcp.body.id);
  t.equal((await call("GET", `/loadbalancers/${tcp.body.id}`)).status, 404, "gone once the reconciler removed it");
  t.equal((await call("DELETE", `/loadbalancers/${tcp.body.id}`)).status, 404, "then DELETE is a 404");
  t.equal((await call("POST", "/loadbalancers", reuse)).status, 201, "its name is free again");

  // Deleting the stack marks its load balancers removing with it.
  t.equal((await call("DELETE", `/stacks/${stack.id}`)).status, 202);
  const left = (await call("GET", "/loadbalancers")).body.data;
  t.same(left.map((lb: any) => lb.state), ["removing", "removing"], "the stack's load balancers are removing");
  for (const lb of left) await removeOnceRemoving(f.store, env.id, lb.id);
  t.same(await f.redis.hlen(f.store.keys.env(env.id).loadBalancerNames), 0, "once removed, their names are released");
});

t.test("bad load balancer bodies name the field and write nothing", async (t) => {
  const f = await apiFixture(t);
  const { env, stack, service } = await seedEnv(f);
  const base = `/v1/environments/${env.id}`;
  const ok = { sourcePort: 80, targetServiceId: service.id, targetPort: 80 };
  const lb = (extra: Record<string, unknown>) => ({ stackId: stack.id, name: "edge", portRules: [ok], ...extra });
  const rules = (...r: unknown[]) => lb({ portRules: r });
  const existing = await f.call("POST", `${base}/loadbalancers`, { key: env.apiKey, body: lb({ name: "existing" }) });
  t.equal(existing.status, 201, existing.text);
  const cases: Array<{ what: string; method?: string; path?: string; body: unknown; status: number; code: string; field: string; message?: RegExp }> = [
    { what: "no stackId", body: { name: "x", portRules: [ok] }, status: 422, code: "MissingField", field: "stackId" },
    { what: "missing stack", body: lb({ stackId: "1stnothere" }), status: 422, code: "InvalidField", field: "stackId" },
    { what: "bad name", body: lb({ name: "Edge_1" }), status: 422, code: "InvalidField", field: "name" },
    { what: "no portRules", body: { stackId: stack.id, name: "x" }, status: 422, code: "MissingField", field: "portRules" },
    { what: "empty portRules", body: rules(), status: 422, code: "InvalidField", field: "portRules" },
    { what: "portRules not a list", body: lb({ portRules: { sourcePort: 80 } }), status: 422, code: "InvalidField", field: "portRules" },
    { what: "sourcePort 0", body: rules({ ...ok, sourcePort: 0 }), status: 422, code: "InvalidField", field: "portRules[0].sourcePort", message: /from 1 to 65535/ },
    { what: "sourcePort 65536", body: rules(ok, { ...ok, sourcePort: 65536 }), status: 422, code: "InvalidField", field: "portRules[1].sourcePort" },
    { what: "no sourcePort", body: rules({ targetServiceId: service.id, targetPort: 80 }), status: 422, code: "MissingField", field: "portRules[0].sourcePort" },
    { what: "targetPort 70000", body: rules({ ...ok, targetPort: 70000 }), status: 422, code: "InvalidField", field: "portRules[0].targetPort" },
    { what: "protocol udp", body: rules({ ...ok, protocol: "udp" }), status: 422, code: "InvalidField", field: "portRules[0].protocol", message: /http, tcp, https/ },
    { what: "path without /", body: rules({ ...ok, path: "app" }), status: 422, code: "InvalidField", field: "portRules[0].path", message: /starts with "\/"/ },
    { what: "hostname with a space", body: rules({ ...ok, hostname: "a b" }), status: 422, code: "InvalidField", field: "portRules[0].hostname" },
    { what: "hostname on tcp", body: rules({ ...ok, protocol: "tcp", hostname: "a.example" }), status: 422, code: "InvalidField", field: "portRules[0].hostname" },
    { what: "missing target service", body: rules({ ...ok, targetServiceId: "1snothere" }), status: 422, code: "InvalidField", field: "portRules[0].targetServiceId" },
    { what: "no target service", body: rules({ sourcePort: 80, targetPort: 80 }), status: 422, code: "MissingField", field: "portRules[0].targetServiceId" },
    { what: "priority 0", body: rules({ ...ok, priority: 0 }), status: 422, code: "InvalidField", field: "portRules[0].priority" },
    { what: "misspelt rule field", body: rules({ ...ok, sourceport: 80 }), status: 422, code: "UnknownField", field: "portRules[0].sourceport", message: /did you mean sourcePort/ },
    { what: "http and tcp on one port", body: rules(ok, { ...ok, protocol: "tcp" }), status: 422, code: "InvalidField", field: "portRules[1].protocol" },
    { what: "https without a certificate", body: rules({ ...ok, protocol: "https" }), status: 422, code: "MissingField", field: "certificateIds" },
    { what: "certificate ids not a list", body: lb({ certificateIds: "c1" }), status: 422, code: "InvalidField", field: "certificateIds" },
    { what: "certificate listed twice", body: lb({ certificateIds: ["c1", "c1"] }), status: 422, code: "InvalidField", field: "certificateIds[1]" },
    { what: "unknown certificate", body: lb({ certificateIds: ["1cenothere"] }), status: 422, code: "InvalidField", field: "certificateIds[0]", message: /a certificate in this environment/ },
    { what: "scale -1", body: lb({ scale: -1 }), status: 422, code: "InvalidField", field: "scale" },
    { what: "global as a string", body: lb({ global: "yes" }), status: 422, code: "InvalidField", field: "global" },
    { what: "bad label key", body: lb({ labels: { "-x": "1" } }), status: 422, code: "InvalidField", field: "labels[\"-x\"]" },
    { what: "bad scheduling rule", body: lb({ scheduling: { hostLabel: { zone: "a" } } }), status: 422, code: "UnknownField", field: "scheduling.hostLabel" },
    { what: "unknown field", body: lb({ image: "haproxy" }), status: 422, code: "UnknownField", field: "image" },
    { what: "name taken", body: lb({ name: "existing" }), status: 409, code: "Conflict", field: "name" },
    { what: "PUT without portRules", method: "PUT", path: `/loadbalancers/${existing.body.id}`, body: { scale: 2 }, status: 422, code: "MissingField", field: "portRules" },
    { what: "PATCH renaming", method: "PATCH", path: `/loadbalancers/${existing.body.id}`, body: { name: "other" }, status: 422, code: "InvalidField", field: "name" },
    { what: "PATCH to https without certificate", method: "PATCH", path: `/loadbalancers/${existing.body.id}`, body: { portRules: [{ ...ok, protocol: "https" }] }, status: 422, code: "MissingField", field: "certificateIds" },
  ];
  await f.unchanged([env.id], "bad load balancer bodies", async () => {
    for (const c of cases) {
      const r = await f.call(c.method ?? "POST", base + (c.path ?? "/loadbalancers"), { key: env.apiKey, body: c.body });
      t.equal(r.status, c.status, `${c.what}: status (${r.text.slice(0, 300)})`);
      t.equal(r.body?.code, c.code, `${c.what}: code`);
      t.equal(r.body?.fieldName, c.field, `${c.what}: field`);
      if (c.message) t.match(r.body?.message, c.message, `${c.what}: message`);
    }
  });
  t.equal((await f.call("GET", `${base}/loadbalancers/nothere`, { key: env.apiKey })).status, 404, "unknown id: 404");
  const other = await f.createEnv();
  t.equal((await f.call("GET", `${base}/loadbalancers/${existing.body.id}`, { key: other.apiKey })).status, 404, "another environment's key: 404");
});

t.test("purging an environment removes its load balancers", async (t) => {
  const f = await apiFixture(t);
  const { env, stack, service } = await seedEnv(f);
  const r = await f.call("POST", `/v1/environments/${env.id}/loadbalancers`, { key: env.apiKey, body: { stackId: stack.id, name: "lb", portRules: [{ sourcePort: 80, targetServiceId: service.id, targetPort: 80 }] } });
  t.equal(r.status, 201);
  const keys = f.store.keys.env(env.id);
  t.equal(await f.redis.hlen(keys.loadBalancers), 1, "stored");
  await f.store.purgeEnvironment(env.id);
  t.same([await f.redis.exists(keys.loadBalancers), await f.redis.exists(keys.loadBalancerNames)], [0, 0], "hash and name index deleted");
});
