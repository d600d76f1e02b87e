/** CRUD of stacks and services, and what each change and action does to the records. */
import t from "tap";
import { makeKeys } from "../../../runtime/protocol/keys";
import { apiFixture, seedEnv } from "./api-fixture";

t.test("stacks: create, read, update, list, delete (with its services)", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  const base = `/v1/environments/${env.id}/stacks`;
  const key = env.apiKey;
  const created = await f.call("POST", base, { key, body: { name: "web", description: "front" } });
  t.equal(created.status, 201);
  t.match(created.body, { type: "stack", name: "web", description: "front", state: "active", envId: env.id });
  t.match(created.body.id, /^1st[0-9a-f]{12}$/);
  t.equal(created.body.links.self, `${f.url}${base}/${created.body.id}`);
  t.equal(created.body.links.services, `${f.url}/v1/environments/${env.id}/services?stackId=${created.body.id}`);
  const id = created.body.id;

  const got = await f.call("GET", `${base}/${id}`, { key });
  t.equal(got.status, 200);
  t.same({ ...got.body, rev: 0 }, { ...created.body, rev: 0 }, "GET shows what POST returned");
  t.ok(got.body.rev >= 1);

  const patched = await f.call("PATCH", `${base}/${id}`, { key, body: { description: "front end" } });
  t.equal(patched.status, 200);
  t.equal(patched.body.description, "front end");
  t.ok(patched.body.rev > got.body.rev, "rev moves on");
  const put = await f.call("PUT", `${base}/${id}`, { key, body: { name: "web" } });
  t.equal(put.status, 200);
  t.notOk("description" in put.body, "PUT replaces: an absent description is gone");
  const rename = await f.call("PUT", `${base}/${id}`, { key, body: { name: "other" } });
  t.equal(rename.status, 422);
  t.equal(rename.body.fieldName, "name");

  const svc = await f.call("POST", `/v1/environments/${env.id}/services`, { key, body: { stackId: id, name: "app", image: "busybox" } });
  t.equal(svc.status, 201);
  const dup = await f.call("POST", base, { key, body: { name: "web" } });
  t.equal(dup.status, 409);
  t.equal(dup.body.fieldName, "name");

  const del = await f.call("DELETE", `${base}/${id}`, { key });
  t.equal(del.status, 202);
  t.equal(del.body.state, "removing");
  const after = await f.call("GET", `/v1/environments/${env.id}/services/${svc.body.id}`, { key });
  t.equal(after.body.state, "removing", "its services are removed with it");
  const again = await f.call("DELETE", `${base}/${id}`, { key });
  t.equal(again.status, 202, "deleting again is harmless");
  t.equal(again.body.rev, del.body.rev, "and writes nothing");
  const missing = await f.call("GET", `${base}/1stnothere`, { key });
  t.equal(missing.status, 404);
});

t.test("services: create with defaults, read, list, delete", async (t) => {
  const f = await apiFixture(t);
  const { env, stack, service } = await seedEnv(f);
  t.match(service, {
    type: "service", name: "nginx", stackId: stack.id, envId: env.id, state: "active", specVersion: 1,
    spec: { image: "nginx:1.25", env: {}, scale: 1, global: false, links: {}, labels: {}, restartPolicy: { name: "always" },
      ports: [{ containerPort: 80, hostPort: 8080, protocol: "tcp" }] },
  });
  t.same(Object.keys(service.actions).sort(), ["deactivate", "restart", "scale"]);
  t.equal(service.actions.scale, `${f.url}/v1/environments/${env.id}/services/${service.id}?action=scale`);
  t.equal(service.links.stack, `${f.url}/v1/environments/${env.id}/stacks/${stack.id}`);

  const key = env.apiKey;
  const db = await f.call("POST", `/v1/environments/${env.id}/services`, {
    key,
    body: {
      stackId: stack.id, name: "db", image: "redis:7", command: ["redis-server", "--appendonly", "yes"],
      env: { TZ: "UTC" }, ports: [{ containerPort: 6379 }, "127.0.0.1:16379:6379"], scale: 2, restartPolicy: "on-failure",
      labels: { "io.rancher.scheduler.affinity:host_label": "disk=ssd" }, scheduling: { hostLabelsNot: { zone: "c" } },
    },
  });
  t.equal(db.status, 201, db.text);
  t.same(db.body.spec.ports, [
    { containerPort: 6379, protocol: "tcp" },
    { containerPort: 6379, protocol: "tcp", hostPort: 16379, hostIp: "127.0.0.1" },
  ], "the object form and Docker's -p form are understood");
  t.same(db.body.spec.labels, {
    "io.rancher.scheduler.affinity:host_label": "disk=ssd",
    "io.rancher.scheduler.affinity:host_label_ne": "zone=c",
  }, "the typed scheduling form becomes Rancher labels");
  t.same(db.body.spec.restartPolicy, { name: "on-failure" });

  const linked = await f.call("POST", `/v1/environments/${env.id}/services`, {
    key, body: { stackId: stack.id, name: "app", image: "busybox", links: { cache: db.body.id }, global: true },
  });
  t.equal(linked.status, 201);
  t.same(linked.body.spec.links, { cache: db.body.id });
  t.equal(linked.body.links["link:cache"], `${f.url}/v1/environments/${env.id}/services/${db.body.id}`);

  const list = await f.call("GET", `/v1/environments/${env.id}/services?stackId=${stack.id}`, { key });
  t.equal(list.body.pagination.total, 3);

  const byLabel = await f.call("POST", `/v1/environments/${env.id}/services`, {
    key, body: { stackId: stack.id, name: "agent", image: "busybox", labels: { "io.rancher.scheduler.global": "true" } },
  });
  t.equal(byLabel.body.spec.global, true, "Rancher's global label makes a global service");
  const relabel = await f.call("PATCH", `/v1/environments/${env.id}/services/${byLabel.body.id}`, { key, body: { labels: { team: "ops" } } });
  t.equal(relabel.body.spec.global, true, "labels without the global label leave global alone");

  const del = await f.call("DELETE", `/v1/environments/${env.id}/services/${db.body.id}`, { key });
  t.equal(del.status, 202);
  t.equal(del.body.state, "removing");
  t.same(del.body.actions, {}, "nothing to do with a service being removed");
  const scale = await f.call("POST", `/v1/environments/${env.id}/services/${db.body.id}?action=scale`, { key, body: { scale: 3 } });
  t.equal(scale.status, 409, "no actions on a removing service");
  const relink = await f.call("PATCH", `/v1/environments/${env.id}/services/${linked.body.id}`, { key, body: { links: { cache: db.body.id } } });
  t.equal(relink.status, 422, "no new links to a removing service");
  t.equal(relink.body.fieldName, "links.cache");
});

t.test("service updates: specVersion moves only when containers must change", async (t) => {
  const f = await apiFixture(t);
  const { env, service } = await seedEnv(f);
  const path = `/v1/environments/${env.id}/services/${service.id}`;
  const key = env.apiKey;
  let version = service.specVersion;
  const patch = async (body: unknown, bumps: boolean, what: string) => {
    const r = await f.call("PATCH", path, { key, body });
    t.equal(r.status, 200, `${what}: ${r.text.slice(0, 200)}`);
    if (bumps) version++;
    t.equal(r.body.specVersion, version, `${what} ${bumps ? "bumps" : "keeps"} specVersion`);
    return r.body;
  };
  await patch({ scale: 3 }, false, "scale");
  await patch({ image: "nginx:1.26" }, true, "image");
  await patch({ env: { A: "1" } }, true, "env");
  await patch({ env: { A: "1" } }, false, "the same env again");
  await patch({ command: ["nginx", "-g", "daemon off;"] }, true, "command");
  await patch({ entrypoint: ["/docker-entrypoint.sh"] }, true, "entrypoint");
  await patch({ ports: [{ containerPort: 80, hostPort: 8081 }] }, true, "ports");
  await patch({ labels: { team: "web" } }, true, "labels");
  await patch({ restartPolicy: { name: "on-failure", maximumRetryCount: 3 } }, true, "restartPolicy");
  await patch({ global: true }, false, "global");
  const last = await patch({ scheduling: { hostLabels: { zone: "a" } } }, true, "scheduling (labels)");
  t.same(last.spec.labels, { team: "web", "io.rancher.scheduler.affinity:host_label": "zone=a" }, "PATCH scheduling keeps the other labels");
  t.equal(last.spec.scale, 3, "PATCH keeps what it does not name");
  t.equal(last.spec.image, "nginx:1.26");
  t.equal(last.transitioning, "yes", "the service converges again");

  const put = await f.call("PUT", path, { key, body: { image: "nginx:1.26", name: "nginx", stackId: service.stackId } });
  t.equal(put.status, 200);
  t.same(put.body.spec, {
    image: "nginx:1.26", env: {}, ports: [], scale: 1, global: false, links: {}, labels: {}, restartPolicy: { name: "always" },
  }, "PUT replaces the whole spec");
  t.equal(put.body.specVersion, version + 1);

  const noImage = await f.call("PUT", path, { key, body: { scale: 2 } });
  t.equal(noImage.status, 422);
  t.equal(noImage.body.code, "MissingField");
  t.equal(noImage.body.fieldName, "image");
  const move = await f.call("PATCH", path, { key, body: { stackId: "1stelsewhere" } });
  t.equal(move.status, 422);
  t.equal(move.body.fieldName, "stackId");
  const self = await f.call("PATCH", path, { key, body: { links: { me: service.id } } });
  t.equal(self.status, 422);
  t.equal(self.body.fieldName, "links.me");
});

t.test("service actions change the right fields", async (t) => {
  const f = await apiFixture(t);
  const { env, service } = await seedEnv(f);
  const path = `/v1/environments/${env.id}/services/${service.id}`;
  const key = env.apiKey;
  const act = (action: string, body?: unknown) => f.call("POST", `${path}?action=${action}`, { key, body });

  const scaled = await act("scale", { scale: 5 });
  t.equal(scaled.status, 202);
  t.equal(scaled.body.spec.scale, 5);
  t.equal(scaled.body.specVersion, 1, "scaling needs no new containers");

  const restarted = await act("restart");
  t.equal(restarted.status, 202);
  t.equal(restarted.body.specVersion, 2, "restart replaces the instances");
  t.same(restarted.body.spec, scaled.body.spec, "and changes nothing else");

  const off = await act("deactivate");
  t.equal(off.status, 202);
  t.equal(off.body.state, "inactive");
  t.same(Object.keys(off.body.actions).sort(), ["activate", "scale"]);
  const offAgain = await act("deactivate");
  t.equal(offAgain.body.rev, off.body.rev, "deactivating an inactive service writes nothing");
  const on = await act("activate");
  t.equal(on.body.state, "active");

  const unknown = await act("explode");
  t.equal(unknown.status, 422);
  t.equal(unknown.body.fieldName, "action");
  const none = await f.call("POST", path, { key });
  t.equal(none.status, 422);
  t.equal(none.body.code, "MissingField");
  const bad = await act("scale", { scale: -1 });
  t.equal(bad.status, 422);
  t.equal(bad.body.message, "scale: expected an integer from 0 to 10000, got -1");
  const extra = await act("restart", { force: true });
  t.equal(extra.status, 422);
  t.equal(extra.body.code, "UnknownField");
});

t.test("teardown marks the environment removing; it then takes no changes", async (t) => {
  const f = await apiFixture(t);
  const { env, stack } = await seedEnv(f);
  const down = await f.call("POST", `/v1/environments/${env.id}?action=teardown`, { key: f.adminKey });
  t.equal(down.status, 202);
  t.equal(down.body.state, "removing");
  t.same(down.body.actions, {});
  const again = await f.call("POST", `/v1/environments/${env.id}?action=teardown`, { key: f.adminKey });
  t.equal(again.status, 202, "tearing down twice is harmless");
  const reconcile = await f.redis.xlen(makeKeys(f.prefix).env(env.id).reconcile);
  t.ok(reconcile > 0, "the reconciler was nudged");
  await f.unchanged([env.id], "writes into a removing environment", async () => {
    const r = await f.call("POST", `/v1/environments/${env.id}/services`, { key: env.apiKey, body: { stackId: stack.id, name: "late", image: "busybox" } });
    t.equal(r.status, 409);
    t.equal(r.body.code, "Conflict");
    const tok = await f.call("POST", `/v1/environments/${env.id}/registrationtokens`, { key: env.apiKey });
    t.equal(tok.status, 409);
  });
  const read = await f.call("GET", `/v1/environments/${env.id}/stacks`, { key: env.apiKey });
  t.equal(read.status, 200, "reads still work");
});
