import t from "tap";
import { environmentProvider, serviceProvider, stackProvider } from "../../provider";
import { serverForTest } from "./server-fixture";

// Provider methods called directly against a real server (in-process, private key prefix):
// create, read (no spurious drift, then real drift), update, delete (idempotent).
const noUndefined = (v: unknown): boolean =>
  v !== undefined && (typeof v !== "object" || v === null || Object.values(v).every(noUndefined));

async function api(url: string, key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => undefined) as any };
}

t.test("Environment, Stack and Service through create, read, update and delete", async (t) => {
  const server = await serverForTest(t);
  const envInputs = { endpoint: server.url, adminKey: server.adminKey, name: `env-${server.prefix}`, description: "provider test" };
  const env = await environmentProvider.create(envInputs);
  let envDeleted = false;
  t.teardown(async () => { if (!envDeleted) await environmentProvider.delete(env.id, env.outs); });
  t.match(env.outs, { envId: env.id, apiKey: /^drk/, registrationToken: /^drt/, state: "active", name: envInputs.name });
  t.ok(noUndefined(env.outs), "outputs have no undefined");
  const envRead = await environmentProvider.read(env.id, env.outs);
  t.same(envRead.props, env.outs, "read after create: no drift");
  t.equal((await environmentProvider.diff(env.id, envRead.props, envInputs)).changes, false, "no diff after refresh");

  // Settings from configure() instead of inputs.
  const configured = Object.create(stackProvider);
  await configured.configure({ config: { get: (k: string) => ({ "drover:endpoint": server.url, "drover:apiKey": env.outs.apiKey } as any)[k] } });
  const stackInputs = { envId: env.id, name: "demo" };
  t.same((await configured.check({}, stackInputs)).failures, [], "config supplies endpoint and key to check");
  const stack = await configured.create(stackInputs);
  t.same(stack.outs, { ...stackInputs, stackId: stack.id, state: "active", serverUrl: server.url });
  const described = await configured.update(stack.id, stack.outs, { ...stackInputs, description: "the demo" });
  t.equal(described.outs.description, "the demo", "description updated");
  t.same((await configured.read(stack.id, described.outs)).props, described.outs, "read: no drift");
  const discovering = await configured.update(stack.id, described.outs, { ...stackInputs, description: "the demo", stackWideDiscovery: true });
  t.equal(discovering.outs.stackWideDiscovery, true);
  t.equal((await configured.read(stack.id, discovering.outs)).props.stackWideDiscovery, true, "the server has it");
  t.same((await configured.read(stack.id, discovering.outs)).props, discovering.outs, "read after the switch: no drift");

  const conn = { endpoint: server.url, apiKey: env.outs.apiKey, envId: env.id };
  const svcInputs = { ...conn, stackId: stack.id, name: "web", image: "local/busybox", command: ["sleep", "3600"], scale: 0,
    ports: ["8080:80"], scheduling: { hostLabels: { zone: "a" } }, env: { A: "1" } };
  const svc = await serviceProvider.create(svcInputs);
  t.match(svc.outs, { ...svcInputs, serviceId: svc.id, state: "active", specVersion: Number });
  const svcRead = await serviceProvider.read(svc.id, svc.outs);
  t.same(svcRead.props, svc.outs, "read after create: no drift (ports short form, scheduling as given)");
  t.equal((await serviceProvider.diff(svc.id, svcRead.props, svcInputs)).changes, false, "no diff after refresh");

  // In place without new containers: this environment has no host, and the server rolls back
  // any change that needs new containers when no host could take one (even at scale 0).
  const healthCheck = { port: 80, requestLine: "GET / HTTP/1.0" };
  const updated = await serviceProvider.update(svc.id, svc.outs, { ...svcInputs, healthCheck });
  t.same(updated.outs.healthCheck, healthCheck, "update applied");
  t.equal(updated.outs.state, "active", "the state output");
  t.same([updated.outs.instances, updated.outs.placement], [[], {}], "no instances (scale 0), placed nowhere");
  const onServer = await api(server.url, conn.apiKey, "GET", `/v1/environments/${env.id}/services/${svc.id}`);
  t.match(onServer.body.spec.healthCheck, { ...healthCheck, interval: 2000, strategy: "recreate" }, "the server has the health check, with Rancher's defaults");
  t.equal(onServer.body.spec.labels["io.rancher.scheduler.affinity:host_label"], "zone=a", "scheduling became Rancher labels");
  const reread: any = await serviceProvider.read(svc.id, updated.outs);
  t.same(reread.props, updated.outs, "read after update: no drift (the defaults are not drift)");
  t.same(Object.keys(reread.inputs).filter((k) => ["serviceId", "specVersion", "instances"].includes(k)), [], "read's inputs: outputs minus what is only an output");
  t.equal(reread.inputs.state, "active");

  await api(server.url, conn.apiKey, "PATCH", `/v1/environments/${env.id}/services/${svc.id}`, { scale: 2 });
  const drifted: any = await serviceProvider.read(svc.id, updated.outs);
  t.equal(drifted.props.scale, 2, "read shows drift");
  t.equal(drifted.inputs.scale, 2, "in the inputs too, so the preview shows it");
  // degraded, then error once the reconciler found no host for the new instances.
  t.match(drifted.props.state, /^(degraded|error: .*no hosts)$/, "and the state the server reports");
  const repair = await serviceProvider.diff(svc.id, drifted.props, { ...svcInputs, healthCheck, state: "active" });
  t.same([repair.changes, repair.replaces], [true, []], "the next diff repairs the drift in place");

  await serviceProvider.delete(svc.id, updated.outs);
  t.equal((await serviceProvider.read(svc.id, updated.outs)).id, undefined, "read after delete: gone");
  await serviceProvider.delete(svc.id, updated.outs);
  t.pass("deleting twice succeeds");

  await configured.delete(stack.id, described.outs);
  await configured.delete(stack.id, described.outs);
  t.equal((await configured.read(stack.id, described.outs)).id, undefined, "stack gone");

  await environmentProvider.delete(env.id, env.outs);
  envDeleted = true;
  await environmentProvider.delete(env.id, env.outs);
  t.equal((await environmentProvider.read(env.id, env.outs)).id, undefined, "environment gone, delete idempotent");
});

t.test("a service that cannot converge fails at its deadline saying what is pending", async (t) => {
  const server = await serverForTest(t);
  const env = await environmentProvider.create({ endpoint: server.url, adminKey: server.adminKey, name: `env2-${server.prefix}` });
  t.teardown(() => environmentProvider.delete(env.id, env.outs));
  const conn = { endpoint: server.url, apiKey: env.outs.apiKey, envId: env.id };
  const stack = await stackProvider.create({ ...conn, name: "demo" });
  const err: any = await serviceProvider.create({ ...conn, stackId: stack.id, name: "lonely", image: "local/busybox", scale: 1, waitTimeoutSeconds: 2 })
    .then(() => undefined, (e: unknown) => e);
  t.ok(err, "create fails");
  t.match(err.message, /timed out after 2 s waiting for service lonely .* to converge; still pending: service lonely waits for an active host: .*there are no hosts/, err.message);
  t.ok(err.id, "the partial create carries the service id");
  t.match(err.properties, { serviceId: err.id, name: "lonely" }, "and its properties");
  await serviceProvider.delete(err.id, err.properties);
  t.equal((await serviceProvider.read(err.id, err.properties)).id, undefined, "the partial service can be deleted");
});
