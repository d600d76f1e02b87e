/**
 * The load balancer's port-rule features through the API: tls (SNI) rules, proxyProtocol,
 * stickiness, timeouts, drain timeout, certificate references; each refusal names its field
 * and writes nothing. Source ports published by services on every host the load balancer
 * could go to are refused naming the hosts (hosts and instances seeded as store records).
 * GET of one load balancer shows its instances with what their agents report.
 */
import t from "tap";
import type { HostObservedState, HostRecord, InstanceRecord, LoadBalancerInstanceStatus } from "../../../runtime/protocol/model";
import { makeCert } from "../../support/certs";
import { apiFixture, seedEnv, type ApiFixture } from "./api-fixture";

const www = makeCert({ cn: "www.example.com", sans: ["www.example.com"] });
const api = makeCert({ cn: "api.example.com", sans: ["api.example.com"] });

async function envWithCerts(f: ApiFixture) {
  const seeded = await seedEnv(f);
  const base = `/v1/environments/${seeded.env.id}`;
  const call = (method: string, path: string, body?: unknown) => f.call(method, base + path, { key: seeded.env.apiKey, body });
  const c1 = (await call("POST", "/certificates", { name: "www", ...www })).body.id as string;
  const c2 = (await call("POST", "/certificates", { name: "api", ...api })).body.id as string;
  return { ...seeded, base, call, c1, c2 };
}

t.test("the new fields are stored and shown", async (t) => {
  const f = await apiFixture(t);
  const { stack, service, call, c1, c2 } = await envWithCerts(f);
  const rules = [
    { sourcePort: 443, protocol: "https", hostname: "www.example.com", targetServiceId: service.id, targetPort: 80 },
    { sourcePort: 443, protocol: "https", hostname: "api.example.com", path: "/v1", targetServiceId: service.id, targetPort: 80, priority: 1 },
    { sourcePort: 8443, protocol: "tls", hostname: "*.example.com", targetServiceId: service.id, targetPort: 443, proxyProtocol: true },
    { sourcePort: 5432, protocol: "tcp", targetServiceId: service.id, targetPort: 5432, proxyProtocol: false },
  ];
  const body = {
    stackId: stack.id, name: "edge", portRules: rules, certificateIds: [c1, c2], defaultCertificateId: c2,
    stickiness: { cookie: "SRV_ID" }, timeouts: { connect: 3000, client: 60000, server: 60000 }, drainTimeoutMillis: 0,
  };
  const created = await call("POST", "/loadbalancers", body);
  t.equal(created.status, 201, created.text);
  t.same(created.body.spec, {
    portRules: rules, certificateIds: [c1, c2], defaultCertificateId: c2, scale: 1, global: false, labels: {},
    stickiness: { cookie: "SRV_ID" }, timeouts: { connect: 3000, client: 60000, server: 60000 }, drainTimeoutMillis: 0,
  }, "every field as given");
  t.same([created.body.served, created.body.instances], [false, []], "served false and no instances yet");

  const patched = await call("PATCH", `/loadbalancers/${created.body.id}`, { timeouts: { client: 1000 } });
  t.equal(patched.status, 200, patched.text);
  t.same([patched.body.spec.timeouts, patched.body.spec.stickiness], [{ client: 1000 }, { cookie: "SRV_ID" }], "PATCH replaces timeouts as a whole, keeps the rest");
  const put = await call("PUT", `/loadbalancers/${created.body.id}`, { portRules: [rules[3]] });
  t.equal(put.status, 200, put.text);
  t.same([put.body.spec.drainTimeoutMillis, put.body.spec.stickiness, put.body.spec.certificateIds], [2000, undefined, []], "PUT: drain timeout back to 2000, the rest gone");
});

t.test("every refusal names its field and writes nothing", async (t) => {
  const f = await apiFixture(t);
  const { env, stack, service, base, call, c1, c2 } = await envWithCerts(f);
  const http = { sourcePort: 80, targetServiceId: service.id, targetPort: 80 };
  const tcp = { sourcePort: 9000, protocol: "tcp", targetServiceId: service.id, targetPort: 9000 };
  const lb = (extra: Record<string, unknown>) => ({ stackId: stack.id, name: "edge", portRules: [http], ...extra });
  const rules = (...r: unknown[]) => lb({ portRules: r });
  const existing = await call("POST", "/loadbalancers", lb({ name: "existing", stickiness: { cookie: "s" } }));
  t.equal(existing.status, 201, existing.text);
  const tcpOnly = await call("POST", "/loadbalancers", lb({ name: "tcp-only", portRules: [tcp] }));
  t.equal(tcpOnly.status, 201, tcpOnly.text);
  const cases: Array<{ what: string; method?: string; path?: string; body: unknown; code: string; field: string; message?: RegExp }> = [
    { what: "tls rule with a path", body: rules({ ...tcp, protocol: "tls", hostname: "a.example.com", path: "/x" }), code: "InvalidField", field: "portRules[0].path", message: /no path on a tls rule/ },
    { what: "tcp rule with a hostname", body: rules({ ...tcp, hostname: "a.example.com" }), code: "InvalidField", field: "portRules[0].hostname", message: /"http", "https" or "tls"/ },
    { what: "proxyProtocol on http", body: rules({ ...http, proxyProtocol: true }), code: "InvalidField", field: "portRules[0].proxyProtocol", message: /only on a tcp or tls rule/ },
    { what: "proxyProtocol not a boolean", body: rules({ ...tcp, proxyProtocol: "yes" }), code: "InvalidField", field: "portRules[0].proxyProtocol" },
    { what: "http and https on one port", body: lb({ portRules: [http, { ...http, protocol: "https" }], certificateIds: [c1] }), code: "InvalidField", field: "portRules[1].protocol", message: /one protocol per source port/ },
    { what: "tcp and tls on one port", body: rules(tcp, { ...tcp, protocol: "tls" }), code: "InvalidField", field: "portRules[1].protocol" },
    { what: "stickiness on tcp only", body: { ...rules(tcp, { ...tcp, sourcePort: 9001, protocol: "tls" }), stickiness: { cookie: "s" } }, code: "InvalidField", field: "stickiness", message: /only with an http or https rule/ },
    { what: "stickiness cookie with a space", body: lb({ stickiness: { cookie: "a b" } }), code: "InvalidField", field: "stickiness.cookie" },
    { what: "stickiness without cookie", body: lb({ stickiness: {} }), code: "MissingField", field: "stickiness.cookie" },
    { what: "stickiness misspelt field", body: lb({ stickiness: { cookei: "s" } }), code: "UnknownField", field: "stickiness.cookei" },
    { what: "stickiness not an object", body: lb({ stickiness: "s" }), code: "InvalidField", field: "stickiness" },
    { what: "timeout 0", body: lb({ timeouts: { connect: 0 } }), code: "InvalidField", field: "timeouts.connect", message: /from 1 to 3600000/ },
    { what: "timeout too long", body: lb({ timeouts: { server: 3600001 } }), code: "InvalidField", field: "timeouts.server" },
    { what: "timeout unknown", body: lb({ timeouts: { queue: 5 } }), code: "UnknownField", field: "timeouts.queue" },
    { what: "drain timeout too long", body: lb({ drainTimeoutMillis: 600001 }), code: "InvalidField", field: "drainTimeoutMillis", message: /from 0 to 600000/ },
    { what: "drain timeout negative", body: lb({ drainTimeoutMillis: -1 }), code: "InvalidField", field: "drainTimeoutMillis" },
    { what: "unknown certificate", body: lb({ certificateIds: [c1, "1cenothere"] }), code: "InvalidField", field: "certificateIds[1]", message: /the id of a certificate in this environment/ },
    { what: "default not among certificateIds", body: lb({ certificateIds: [c1], defaultCertificateId: c2 }), code: "InvalidField", field: "defaultCertificateId", message: /one of certificateIds/ },
    { what: "default without certificateIds", body: lb({ defaultCertificateId: c1 }), code: "InvalidField", field: "defaultCertificateId", message: /none listed/ },
    { what: "https without certificates", body: rules({ ...http, protocol: "https" }), code: "MissingField", field: "certificateIds", message: /portRules\[0\] is https/ },
    { what: "PATCH rules to tcp with stickiness kept", method: "PATCH", path: `/loadbalancers/${existing.body.id}`, body: { portRules: [tcp] }, code: "InvalidField", field: "stickiness" },
    { what: "PATCH stickiness onto a tcp-only balancer", method: "PATCH", path: `/loadbalancers/${tcpOnly.body.id}`, body: { stickiness: { cookie: "s" } }, code: "InvalidField", field: "stickiness" },
    { what: "PATCH dropping the default certificate", method: "PATCH", path: `/loadbalancers/${existing.body.id}`, body: { certificateIds: [c1], defaultCertificateId: c2 }, code: "InvalidField", field: "defaultCertificateId" },
    { what: "protocol sni (Rancher's, not drover's)", body: rules({ ...http, protocol: "sni" }), code: "InvalidField", field: "portRules[0].protocol", message: /http, tcp, https, tls/ },
  ];
  await f.unchanged([env.id], "bad load balancer bodies", async () => {
    for (const c of cases) {
      const r = await f.call(c.method ?? "POST", base + (c.path ?? "/loadbalancers"), { key: env.apiKey, body: c.body });
      t.equal(r.status, 422, `${c.what}: status (${r.text.slice(0, 300)})`);
      t.equal(r.body?.code, c.code, `${c.what}: code`);
      t.equal(r.body?.fieldName, c.field, `${c.what}: field`);
      if (c.message) t.match(r.body?.message, c.message, `${c.what}: message`);
    }
  });
});

t.test("a source port published on every eligible host is refused, naming the hosts", async (t) => {
  const f = await apiFixture(t);
  const { env, stack, service, call } = await envWithCerts(f);
  const now = new Date().toISOString();
  const host = (n: number, labels: Record<string, string>): HostRecord => ({
    id: `1hseed${n}`, envId: env.id, name: `node${n}`, labels, subnet: `10.42.${n}.0/24`, underlayIp: `192.0.2.${n}`,
    state: "active", deactivated: false, createdAt: now, rev: 0,
  });
  const instance = (n: number, hostId: string, hostPort: number, extra: Partial<InstanceRecord> = {}): InstanceRecord => ({
    id: `1iseed${n}`, envId: env.id, serviceId: service.id, stackId: stack.id, hostId, name: `web-nginx-${n}`, index: n, specVersion: 1,
    spec: { image: "nginx", env: {}, ports: [{ hostPort, containerPort: 80, protocol: "tcp" }], labels: {}, restartPolicy: { name: "always" } },
    state: "active", createdAt: now, rev: 0, ...extra,
  });
  const rule = (sourcePort: number) => ({ sourcePort, targetServiceId: service.id, targetPort: 80 });
  const body = (name: string, extra: Record<string, unknown> = {}) => ({ stackId: stack.id, name, portRules: [rule(80), rule(8080)], ...extra });

  t.equal((await call("POST", "/loadbalancers", body("no-hosts"))).status, 201, "no hosts yet: nothing to collide with (it waits, as a service would)");
  await f.store.write(env.id, { put: [
    { kind: "host", record: host(1, { zone: "a" }) }, { kind: "host", record: host(2, { zone: "a" }) }, { kind: "host", record: host(3, { zone: "b" }) },
    { kind: "instance", record: instance(1, "1hseed1", 8080) }, { kind: "instance", record: instance(2, "1hseed2", 8080) },
  ] });
  t.equal((await call("POST", "/loadbalancers", body("anywhere"))).status, 201, "node3 has 8080 free");

  let refused!: Awaited<ReturnType<typeof call>>;
  await f.unchanged([env.id], "a refused source port", async () => {
    refused = await call("POST", "/loadbalancers", body("zone-a", { scheduling: { hostLabels: { zone: "a" } } }));
  });
  t.same([refused.status, refused.body.code, refused.body.fieldName], [409, "Conflict", "portRules[1].sourcePort"], "8080 is taken on both zone-a hosts");
  t.match(refused.body.message, /port 8080\/tcp is taken on every host this load balancer can run on: node1: port 8080\/tcp in use \(instance web-nginx-1\); node2: port 8080\/tcp in use \(instance web-nginx-2\)/);
  t.same(Object.keys(refused.body.detail.hosts).sort(), ["node1", "node2"], "only the hosts it could run on are named");

  // Another port only, or a host freed: accepted.
  t.equal((await call("POST", "/loadbalancers", { ...body("zone-a-80", { scheduling: { hostLabels: { zone: "a" } } }), portRules: [rule(80)] })).status, 201, "port 80 is free there");
  await f.store.write(env.id, { put: [{ kind: "instance", record: instance(2, "1hseed2", 8080, { state: "removing" }) }] });
  t.equal((await call("POST", "/loadbalancers", body("zone-a", { scheduling: { hostLabels: { zone: "a" } } }))).status, 201, "an instance being removed frees its port");

  // Labels matching no host: not a port problem.
  t.equal((await call("POST", "/loadbalancers", body("zone-c", { scheduling: { hostLabels: { zone: "c" } } }))).status, 201, "no eligible host: accepted, it waits");

  // The check runs on updates too; the load balancer's own instances do not count against it.
  const lb = await call("POST", "/loadbalancers", { ...body("mine", { scheduling: { hostLabels: { zone: "b" } } }), portRules: [rule(9090)] });
  t.equal(lb.status, 201, lb.text);
  await f.store.write(env.id, { put: [{ kind: "instance", record: instance(9, "1hseed3", 9090, { kind: "lb", serviceId: lb.body.id, name: "web-mine-1" }) }] });
  const patched = await call("PATCH", `/loadbalancers/${lb.body.id}`, { scale: 1, drainTimeoutMillis: 100 });
  t.equal(patched.status, 200, `its own HAProxy on node3 holding 9090 does not refuse it (${patched.text.slice(0, 200)})`);
  await f.store.write(env.id, { put: [{ kind: "instance", record: instance(3, "1hseed3", 8080) }] });
  const moved = await call("PATCH", `/loadbalancers/${lb.body.id}`, { portRules: [rule(9090), rule(8080)] });
  t.same([moved.status, moved.body.fieldName], [409, "portRules[1].sourcePort"], "a new source port taken on its only host is refused");
});

t.test("GET shows each instance with its agent's HAProxy report; lists leave the reports out", async (t) => {
  const f = await apiFixture(t);
  const { env, stack, service, call } = await envWithCerts(f);
  const lb = await call("POST", "/loadbalancers", { stackId: stack.id, name: "edge", portRules: [{ sourcePort: 80, targetServiceId: service.id, targetPort: 80 }], scale: 2 });
  const now = new Date().toISOString();
  const host = (n: number): HostRecord => ({ id: `1hlb${n}`, envId: env.id, name: `lb${n}`, labels: {}, subnet: `10.42.${n}.0/24`, state: "active", deactivated: false, createdAt: now, rev: 0 });
  const lbInstance = (n: number): InstanceRecord => ({
    id: `1ilb${n}`, envId: env.id, kind: "lb", serviceId: lb.body.id, stackId: stack.id, hostId: `1hlb${n}`, name: `web-edge-${n}`, index: n, specVersion: 1,
    spec: { image: "haproxy", env: {}, ports: [{ hostPort: 80, containerPort: 80, protocol: "tcp" }], labels: {}, restartPolicy: { name: "always" } },
    state: "active", createdAt: now, rev: 0,
  });
  await f.store.write(env.id, { put: [{ kind: "host", record: host(1) }, { kind: "host", record: host(2) }, { kind: "instance", record: lbInstance(2) }, { kind: "instance", record: lbInstance(1) }] });
  const status: LoadBalancerInstanceStatus = { state: "running", reloads: 3, backends: { "web-nginx": { "1iweb1": "up", "1iweb2": "draining" } }, since: now };
  const observed: HostObservedState = { hostId: "1hlb1", appliedGeneration: 1, instances: {}, loadBalancers: { "1ilb1": status }, reportedAt: now };
  await f.redis.set(f.store.keys.host(env.id, "1hlb1").observed, JSON.stringify(observed));

  const one = await call("GET", `/loadbalancers/${lb.body.id}`);
  t.same(one.body.instances, [
    { id: "1ilb1", name: "web-edge-1", hostId: "1hlb1", state: "active", haproxy: status },
    { id: "1ilb2", name: "web-edge-2", hostId: "1hlb2", state: "active", haproxy: null },
  ], "each instance with its host's report (null where the agent reported none)");
  t.equal(one.body.links.instances, `${f.url}/v1/environments/${env.id}/instances?serviceId=${lb.body.id}`);
  const list = await call("GET", "/loadbalancers");
  t.same(list.body.data[0].instances, [
    { id: "1ilb1", name: "web-edge-1", hostId: "1hlb1", state: "active" },
    { id: "1ilb2", name: "web-edge-2", hostId: "1hlb2", state: "active" },
  ], "the list shows hosts and states without reading the agents' reports");
  t.same(Object.keys(one.body).sort(), ["actions", "createdAt", "envId", "id", "instances", "links", "name", "rev", "served", "spec", "stackId", "state", "transitioning", "type"], "the allow-listed fields");
});
