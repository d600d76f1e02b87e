/** Optimistic concurrency under parallel writers, and the read-only instances collection. */
import t from "tap";
import { signedRegistration } from "../../support/host-identity";
import type { InstanceRecord } from "../../../runtime/protocol/model";
import { apiFixture, seedEnv } from "./api-fixture";

t.test("parallel writes to one environment all land (RevisionMismatch is retried)", async (t) => {
  const f = await apiFixture(t);
  const { env, service } = await seedEnv(f);
  const key = env.apiKey;
  const stacks = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    f.call("POST", `/v1/environments/${env.id}/stacks`, { key, body: { name: `p${i}` } })));
  t.same(stacks.map((r) => r.status), Array(8).fill(201), stacks.map((r) => r.text.slice(0, 100)).join("\n"));
  const revs = new Set(stacks.map((r) => r.body.rev));
  t.equal(revs.size, 8, "each write got its own revision");

  // Parallel PATCHes of different fields of one service: none may undo another.
  const patches = [{ scale: 4 }, { env: { A: "1" } }, { labels: { team: "x" } }, { global: true }];
  const results = await Promise.all(patches.map((body) =>
    f.call("PATCH", `/v1/environments/${env.id}/services/${service.id}`, { key, body })));
  t.same(results.map((r) => r.status), [200, 200, 200, 200]);
  const final = await f.call("GET", `/v1/environments/${env.id}/services/${service.id}`, { key });
  t.match(final.body.spec, { scale: 4, env: { A: "1" }, labels: { team: "x" }, global: true }, "every change survived");
  t.equal(final.body.specVersion, 3, "env and labels each bumped specVersion once");
});

t.test("instances: list, filter, get; no writes", async (t) => {
  const f = await apiFixture(t);
  const { env, stack, service } = await seedEnv(f);
  const reg = await f.call("POST", "/v1/register", {
    body: signedRegistration({ token: env.registrationToken, machineId: "m", hostname: "h", agentVersion: "1", dockerVersion: "1", kernelVersion: "1" }),
  });
  t.equal(reg.status, 201, reg.text);
  const snap = await f.store.snapshot(env.id);
  const instance = (index: number): InstanceRecord => ({
    id: `1i${index}`, envId: env.id, serviceId: service.id, stackId: stack.id, hostId: reg.body.hostId,
    name: `web-nginx-${index}`, index, specVersion: 1, state: index === 1 ? "active" : "requested", createdAt: new Date().toISOString(), rev: 0,
    spec: { image: "nginx:1.25", env: {}, ports: [], labels: { role: index === 1 ? "primary" : "replica" }, restartPolicy: { name: "always" } },
  });
  await f.store.write(env.id, { put: [1, 2, 3].map((i) => ({ kind: "instance" as const, record: instance(i) })) }, { expectRev: snap.rev });

  const base = `/v1/environments/${env.id}/instances`;
  const key = env.apiKey;
  const all = await f.call("GET", `${base}?serviceId=${service.id}`, { key });
  t.equal(all.body.pagination.total, 3);
  const active = await f.call("GET", `${base}?state=active`, { key });
  t.same(active.body.data.map((i: { id: string }) => i.id), ["1i1"]);
  const replicas = await f.call("GET", `${base}?labels.role=replica&hostId=${reg.body.hostId}`, { key });
  t.equal(replicas.body.data.length, 2);
  const one = await f.call("GET", `${base}/1i2`, { key });
  t.equal(one.status, 200);
  t.match(one.body, { type: "instance", name: "web-nginx-2", links: { host: `${f.url}/v1/environments/${env.id}/hosts/${reg.body.hostId}` } });
  t.same(Object.keys(one.body.actions).sort(), ["execute", "logs"], "an instance offers stream tokens (logs, execute), nothing else");
  await f.unchanged([env.id], "writes to instances", async () => {
    for (const method of ["PUT", "PATCH", "DELETE"]) {
      const r = await f.call(method, `${base}/1i2`, { key, body: method === "DELETE" ? undefined : {} });
      t.same([r.status, r.headers.allow], [405, "GET, POST"], `${method} on an instance: 405, Allow: GET, POST (POST takes the stream actions)`);
    }
    const post = await f.call("POST", `${base}/1i2`, { key, body: {} });
    t.equal(post.status, 422, "POST without ?action= names the field");
    t.equal(post.body.fieldName, "action");
  });
});
