/** Health checks and upgrade strategies through the API: validation, rollouts, actions, refusals and the placement dry run. */
import t from "tap";
import { signedRegistration } from "../../support/host-identity";
import type { HostRecord, InstanceRecord } from "../../../runtime/protocol/model";
import { apiFixture, seedEnv, type ApiFixture } from "./api-fixture";

/** A registered host with labels, made active and given a subnet the way the reconciler would. */
async function activeHost(f: ApiFixture, env: { id: string; registrationToken: string }, name: string, labels: Record<string, string>) {
  const reg = await f.call("POST", "/v1/register", {
    body: signedRegistration({ token: env.registrationToken, machineId: `m-${name}`, hostname: name, labels, agentVersion: "1", dockerVersion: "1", kernelVersion: "1" }),
  });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${reg.text}`);
  const snap = await f.store.snapshot(env.id);
  const host = snap.hosts.find((h) => h.id === reg.body.hostId)!;
  const n = snap.hosts.length;
  const record: HostRecord = { ...host, state: "active", subnet: `10.42.${n}.0/24` };
  await f.store.write(env.id, { put: [{ kind: "host", record }] }, { expectRev: snap.rev });
  return record;
}

async function placeInstance(f: ApiFixture, envId: string, service: any, hostId: string): Promise<void> {
  const snap = await f.store.snapshot(envId);
  const record: InstanceRecord = {
    id: `1i${Math.random().toString(16).slice(2, 10)}`, envId, serviceId: service.id, stackId: service.stackId, hostId, name: `web-${service.name}-1`, index: 1,
    specVersion: service.specVersion, state: "active", createdAt: new Date().toISOString(), rev: 0, ip: "10.42.1.2",
    spec: { image: service.spec.image, env: {}, ports: [], labels: {}, restartPolicy: { name: "always" } },
  };
  await f.store.write(envId, { put: [{ kind: "instance", record }] }, { expectRev: snap.rev });
}

t.test("healthCheck and upgradeStrategy: defaults, and every bad field named", async (t) => {
  const f = await apiFixture(t);
  const { env, stack } = await seedEnv(f);
  const key = env.apiKey;
  const base = `/v1/environments/${env.id}/services`;
  const ok = await f.call("POST", base, { key, body: { stackId: stack.id, name: "web", image: "busybox", healthCheck: { port: 80, requestLine: "GET /healthz HTTP/1.0" }, upgradeStrategy: { batchSize: 2, startFirst: true } } });
  t.equal(ok.status, 201, ok.text);
  t.same(ok.body.spec.healthCheck, {
    port: 80, interval: 2000, responseTimeout: 2000, healthyThreshold: 2, unhealthyThreshold: 3, requestLine: "GET /healthz HTTP/1.0",
    initializingTimeout: 60000, reinitializingTimeout: 60000, strategy: "recreate",
  }, "Rancher's defaults fill the rest");
  t.same(ok.body.spec.upgradeStrategy, { batchSize: 2, intervalMillis: 2000, startFirst: true });

  const bad: Array<[unknown, string, RegExp]> = [
    [{ port: 0 }, "healthCheck.port", /from 1 to 65535/],
    [{ port: 70000 }, "healthCheck.port", /from 1 to 65535/],
    [{}, "healthCheck.port", /required/],
    [{ port: 80, healthyThreshold: 0 }, "healthCheck.healthyThreshold", /from 1/],
    [{ port: 80, unhealthyThreshold: -1 }, "healthCheck.unhealthyThreshold", /from 1/],
    [{ port: 80, requestLine: "GET / HTTP/1.0\r\nHost: x" }, "healthCheck.requestLine", /no CR or LF/],
    [{ port: 80, requestLine: "hello" }, "healthCheck.requestLine", /METHOD PATH/],
    [{ port: 80, requestLine: "get /x" }, "healthCheck.requestLine", /upper-case HTTP method/],
    [{ port: 80, interval: 1000, responseTimeout: 1500 }, "healthCheck.responseTimeout", /at most the interval/],
    [{ port: 80, strategy: "recreateOnQuorum" }, "healthCheck.quorum", /required/],
    [{ port: 80, quorum: 2 }, "healthCheck.quorum", /only with strategy "recreateOnQuorum"/],
    [{ port: 80, strategy: "restart" }, "healthCheck.strategy", /one of none, recreate, recreateOnQuorum/],
    [{ port: 80, intervall: 5 }, "healthCheck.intervall", /did you mean interval/],
  ];
  await f.unchanged([env.id], "bad health checks", async () => {
    for (const [healthCheck, field, message] of bad) {
      const r = await f.call("POST", base, { key, body: { stackId: stack.id, name: "x", image: "busybox", healthCheck } });
      t.equal(r.status, 422, `${JSON.stringify(healthCheck)} → 422`);
      t.equal(r.body.fieldName, field);
      t.match(r.body.message, message);
    }
    const u = await f.call("POST", base, { key, body: { stackId: stack.id, name: "x", image: "busybox", upgradeStrategy: { batchSize: 0 } } });
    t.equal(u.body.fieldName, "upgradeStrategy.batchSize");
    const v = await f.call("POST", base, { key, body: { stackId: stack.id, name: "x", image: "busybox", upgradeStrategy: { startFirst: "yes" } } });
    t.equal(v.body.fieldName, "upgradeStrategy.startFirst");
  });
});

t.test("a spec change starts a rolling upgrade; rollback and finishupgrade act on it", async (t) => {
  const f = await apiFixture(t);
  const { env, service } = await seedEnv(f);
  const key = env.apiKey;
  const path = `/v1/environments/${env.id}/services/${service.id}`;
  const up = await f.call("PATCH", path, { key, body: { image: "nginx:1.26" } });
  t.equal(up.status, 200, up.text);
  t.equal(up.body.specVersion, 2);
  t.match(up.body.upgrade, { state: "upgrading", fromVersion: 1, toVersion: 2, fromSpec: { image: "nginx:1.25" } });
  t.ok(up.body.actions.rollback, "rollback is offered while upgrading");
  const scaled = await f.call("PATCH", path, { key, body: { scale: 3, healthCheck: { port: 80 } } });
  t.equal(scaled.body.specVersion, 2, "scale and the health check need no new containers");

  const back = await f.call("POST", `${path}?action=rollback`, { key });
  t.equal(back.status, 202, back.text);
  t.equal(back.body.spec.image, "nginx:1.25");
  t.equal(back.body.specVersion, 1, "back on the old version");
  t.match(back.body.upgrade, { state: "rolling-back", reason: "rollback requested" });
  const again = await f.call("PATCH", path, { key, body: { image: "nginx:1.27" } });
  t.equal(again.body.specVersion, 3, "a failed or rolled-back version number is never reused");

  const finish = await f.call("POST", `${path}?action=finishupgrade`, { key });
  t.equal(finish.status, 409, "nothing finished yet");
  t.match(finish.body.message, /no finished upgrade \(it is upgrading\)/);
  const restart = await f.call("POST", `${path}?action=restart`, { key });
  t.equal(restart.body.specVersion, 4, "restart is a rolling restart: a new version of the same spec");
  t.equal(restart.body.upgrade.fromVersion, 1, "from the last spec that ran in full");
});

t.test("an update no host can take is refused while instances run, naming the reason; nothing changes", async (t) => {
  const f = await apiFixture(t);
  const { env, service } = await seedEnv(f);
  const key = env.apiKey;
  const h = await activeHost(f, env, "h1", { zone: "a" });
  await placeInstance(f, env.id, service, h.id);
  const path = `/v1/environments/${env.id}/services/${service.id}`;
  await f.unchanged([env.id], "an unplaceable update", async () => {
    const r = await f.call("PATCH", path, { key, body: { scheduling: { hostLabels: { zome: "a" } } } });
    t.equal(r.status, 422, r.text);
    t.equal(r.body.code, "Unplaceable");
    t.equal(r.body.fieldName, "labels");
    t.match(r.body.message, /could not be placed: h1: .*zome=a.*; nothing was changed/);
    t.ok(r.body.detail.reasons.h1, "the reason per host");
    const s = await f.call("POST", `${path}?action=scale`, { key, body: { scale: 3 } });
    t.equal(s.status, 422, "a scale-up past the free ports too (8080 is published)");
    t.match(s.body.message, /port 8080\/tcp/);
  });
  const fine = await f.call("PATCH", path, { key, body: { scheduling: { hostLabels: { zone: "a" } } } });
  t.equal(fine.status, 200, "the right label is accepted");
});

t.test("placements: a dry run of a new service or a new spec, writing nothing", async (t) => {
  const f = await apiFixture(t);
  const { env, stack, service } = await seedEnv(f);
  const key = env.apiKey;
  await activeHost(f, env, "h1", { zone: "a" });
  await activeHost(f, env, "h2", { zone: "b" });
  const path = `/v1/environments/${env.id}/placements`;
  await f.unchanged([env.id], "dry runs", async () => {
    const create = await f.call("POST", path, { key, body: { stackId: stack.id, name: "api", image: "busybox", scale: 2 } });
    t.equal(create.status, 200, create.text);
    t.equal(create.body.ok, true);
    t.same(create.body.instances.map((i: any) => i.hostName).sort(), ["h1", "h2"], "spread over both hosts");
    const update = await f.call("POST", path, { key, body: { serviceId: service.id, image: "nginx:1.25", scheduling: { hostLabels: { zone: "c" } } } });
    t.equal(update.body.ok, false);
    t.match(update.body.message, /could not be placed/);
    t.ok(update.body.reasons.h1 && update.body.reasons.h2);
    const invalid = await f.call("POST", path, { key, body: { serviceId: service.id, image: "nginx:1.25", sclae: 2 } });
    t.equal(invalid.status, 422);
    t.match(invalid.body.message, /did you mean scale/);
  });
});

t.test("host labels change in place; drover's own labels stay and cannot be set", async (t) => {
  const f = await apiFixture(t);
  const { env } = await seedEnv(f);
  const key = env.apiKey;
  // The agent sends its hostname as a label of drover's own (agent/host-labels.ts).
  const h = await activeHost(f, env, "h1", { zone: "a", "io.drover.host.hostname": "h1" });
  const path = `/v1/environments/${env.id}/hosts/${h.id}`;
  const r = await f.call("PATCH", path, { key, body: { labels: { zone: "b", disk: "ssd" } } });
  t.equal(r.status, 200, r.text);
  t.same(Object.keys(r.body.labels).sort(), ["disk", "io.drover.host.hostname", "io.rancher.host.docker_version", "io.rancher.host.linux_kernel_version", "zone"]);
  t.equal(r.body.labels.zone, "b");
  t.equal(r.body.id, h.id, "the same host: nothing replaced");
  await f.unchanged([env.id], "bad label updates", async () => {
    const sys = await f.call("PATCH", path, { key, body: { labels: { "io.rancher.host.docker_version": "1" } } });
    t.equal(sys.status, 422);
    t.match(sys.body.message, /set by drover/);
    const own = await f.call("PATCH", path, { key, body: { labels: { "io.drover.host.hostname": "other" } } });
    t.equal(own.status, 422, "io.drover.host.* is drover's too");
    t.match(own.body.message, /set by drover/);
    const none = await f.call("PATCH", path, { key, body: {} });
    t.equal(none.body.fieldName, "labels");
    const typo = await f.call("PATCH", path, { key, body: { lables: {} } });
    t.match(typo.body.message, /did you mean labels/);
  });
});
