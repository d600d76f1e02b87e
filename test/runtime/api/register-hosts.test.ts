/** Agent registration, registration tokens, and host actions. */
import Redis from "ioredis";
import t from "tap";
import { newHostKey, signedRegistration, testHostKey } from "../../support/host-identity";
import { signRegistration } from "../../../runtime/protocol/host-identity";
import { apiFixture, registration } from "./api-fixture";

const unsignedAgent = (token: string, extra: Record<string, unknown> = {}) => ({
  token, machineId: "machine-a", hostname: "node-a", labels: { zone: "a" },
  agentVersion: "0.1.0", dockerVersion: "20.10.24", kernelVersion: "6.1.0", underlayIp: "198.18.0.11", ...extra,
});
const agent = (token: string, extra: Record<string, unknown> = {}) => signedRegistration(unsignedAgent(token, extra));

t.test("registration creates the host once per machine and hands out working Redis credentials", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  const first = await f.call("POST", "/v1/register", { body: agent(env.registrationToken) });
  t.equal(first.status, 201, first.text);
  t.match(first.body, {
    envId: env.id,
    redis: { url: registration.redisUrl, keyPrefix: f.prefix },
    heartbeatIntervalMs: registration.heartbeatIntervalMs,
    heartbeatTtlMs: registration.heartbeatTtlMs,
    resyncIntervalMs: registration.resyncIntervalMs,
  });
  t.match(first.body.hostId, /^1h[0-9a-f]{12}$/);
  t.equal(first.body.redis.username, `${f.prefix}-host-${env.id}-${first.body.hostId}`);

  // The agent's user can log in and touch its own keys.
  const agentRedis = new Redis(registration.redisUrl, {
    username: first.body.redis.username, password: first.body.redis.password,
    enableReadyCheck: false, maxRetriesPerRequest: 1, lazyConnect: true,
  });
  t.teardown(() => agentRedis.disconnect());
  await agentRedis.connect();
  t.equal(await agentRedis.ping(), "PONG");

  const host = await f.call("GET", `/v1/environments/${env.id}/hosts/${first.body.hostId}`, { key: env.apiKey });
  t.notOk("machineId" in host.body, "the machine id (the host's identity) is not shown");
  t.match(host.body, {
    type: "host", name: "node-a", state: "active", deactivated: false,
    underlayIp: "198.18.0.11", agentVersion: "0.1.0",
    labels: { zone: "a", "io.rancher.host.docker_version": "20.10.24", "io.rancher.host.linux_kernel_version": "6.1.0" },
  });
  t.same(Object.keys(host.body.actions), ["deactivate"]);

  const second = await f.call("POST", "/v1/register", { body: agent(env.registrationToken, { labels: { zone: "b" }, dockerVersion: "24.0.7" }) });
  t.equal(second.status, 201);
  t.equal(second.body.hostId, first.body.hostId, "same machineId → same host");
  t.not(second.body.redis.password, first.body.redis.password, "a fresh password each time");
  const hosts = await f.call("GET", `/v1/environments/${env.id}/hosts`, { key: env.apiKey });
  t.equal(hosts.body.data.length, 1);
  t.equal(hosts.body.data[0].labels.zone, "b", "labels follow the latest registration");
  t.equal(hosts.body.data[0].dockerVersion, "24.0.7");

  await f.unchanged([env.id], "registration conflicts", async () => {
    const thief = await f.call("POST", "/v1/register", { body: agent(env.registrationToken, { machineId: "machine-b" }) });
    t.equal(thief.status, 409, "another machine may not take the hostname");
    t.equal(thief.body.fieldName, "hostname");
    const wrong = await f.call("POST", "/v1/register", { body: agent("drt_wrong", { machineId: "machine-c", hostname: "node-c" }) });
    t.equal(wrong.status, 401);
    t.equal(wrong.body.code, "Unauthorized");
    const apiKeyAsToken = await f.call("POST", "/v1/register", { body: agent(env.apiKey, { machineId: "machine-c", hostname: "node-c" }) });
    t.equal(apiKeyAsToken.status, 401, "an API key is not a registration token");
  });
  const other = await f.call("POST", "/v1/register", { body: agent(env.registrationToken, { machineId: "machine-b", hostname: "node-b" }) });
  t.equal(other.status, 201);
  t.not(other.body.hostId, first.body.hostId);
});

t.test("extra registration tokens: created, shown once, usable; the list shows no secrets", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  const base = `/v1/environments/${env.id}/registrationtokens`;
  const created = await f.call("POST", base, { key: env.apiKey, body: { description: "rack 2" } });
  t.equal(created.status, 201);
  t.match(created.body, { type: "registrationToken", envId: env.id, description: "rack 2", registrationUrl: `${f.url}/v1/register` });
  t.match(created.body.token, /^drt_/);
  const list = await f.call("GET", base, { key: env.apiKey });
  t.equal(list.status, 200);
  t.equal(list.body.data.length, 2, "the environment's first token and the new one");
  t.notOk(list.text.includes(created.body.token), "no secret in the list");
  t.notOk(list.text.includes(env.registrationToken));
  t.ok(list.body.data.some((tok: { id: string }) => tok.id === created.body.id));
  const reg = await f.call("POST", "/v1/register", { body: agent(created.body.token) });
  t.equal(reg.status, 201, "the new token registers hosts");
  t.equal(reg.body.envId, env.id);
});

t.test("host actions and deletion", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  const reg = await f.call("POST", "/v1/register", { body: agent(env.registrationToken) });
  const path = `/v1/environments/${env.id}/hosts/${reg.body.hostId}`;
  const key = env.apiKey;

  await f.unchanged([env.id], "deleting an active host", async () => {
    const r = await f.call("DELETE", path, { key });
    t.equal(r.status, 409);
    t.match(r.body.message, /deactivate it first/);
  });
  const before = await f.call("GET", path, { key });
  const off = await f.call("POST", `${path}?action=deactivate`, { key });
  t.equal(off.status, 202);
  t.equal(off.body.deactivated, true);
  t.ok(off.body.rev > before.body.rev, "the write bumps rev");
  t.same(Object.keys(off.body.actions), ["activate"]);
  const listed = await f.call("GET", `/v1/environments/${env.id}/hosts?deactivated=true`, { key });
  t.equal(listed.body.data.length, 1);
  const on = await f.call("POST", `${path}?action=activate`, { key });
  t.equal(on.body.deactivated, false);
  await f.call("POST", `${path}?action=deactivate`, { key });
  const del = await f.call("DELETE", path, { key });
  t.equal(del.status, 202);
  t.equal(del.body.state, "removing");
  const late = await f.call("POST", `${path}?action=activate`, { key });
  t.equal(late.status, 409, "a removing host takes no actions");
  const rereg = await f.call("POST", "/v1/register", { body: agent(env.registrationToken) });
  t.equal(rereg.status, 409, "its machine cannot re-register until the removal is done");
  t.equal(rereg.body.retryable, true);
});

t.test("a known machine id registers again only with its own key: no takeover with a token alone", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  const owner = await f.call("POST", "/v1/register", { body: agent(env.registrationToken) });
  t.equal(owner.status, 201, owner.text);
  const hostBefore = await f.store.get(env.id, "host", owner.body.hostId);
  const ownerLogin = new Redis(registration.redisUrl, { username: owner.body.redis.username, password: owner.body.redis.password, lazyConnect: true, maxRetriesPerRequest: 0 });
  t.teardown(() => ownerLogin.disconnect());

  const impostorKey = newHostKey();
  await f.unchanged([env.id], "an impostor's registration", async () => {
    // Holder of the token and the machine id (say, from an old log), but not of the host's key.
    const impostor = await f.call("POST", "/v1/register", { body: signedRegistration({ ...unsignedAgent(env.registrationToken), underlayIp: "198.18.0.99" }, impostorKey) });
    t.equal(impostor.status, 403, impostor.text);
    t.match(impostor.body, { code: "Forbidden", fieldName: "identityKey", message: new RegExp(`registered as host ${owner.body.hostId} with another key`) });
  });
  await ownerLogin.connect();
  t.equal(await ownerLogin.ping(), "PONG", "the owner's Redis password was not reset");

  // The owner's own request, captured and sent again.
  const captured = agent(env.registrationToken);
  t.equal((await f.call("POST", "/v1/register", { body: captured })).status, 201, "the owner registers again");
  const replay = await f.call("POST", "/v1/register", { body: captured });
  t.equal(replay.status, 403, "the same signed request again is refused");
  t.match(replay.body, { code: "Forbidden", fieldName: "signedAt", message: /not newer than/ });

  const tampered = { ...agent(env.registrationToken), underlayIp: "198.18.0.66" };
  const refusedTamper = await f.call("POST", "/v1/register", { body: tampered });
  t.match([refusedTamper.status, refusedTamper.body.fieldName], [401, "signature"], "a body changed after signing is refused");
  const stale = signedRegistration(unsignedAgent(env.registrationToken));
  const old = signRegistration({ ...stale, signature: undefined, signedAt: new Date(Date.now() - 20 * 60_000).toISOString() } as never, testHostKey().privateKey);
  const refusedStale = await f.call("POST", "/v1/register", { body: old });
  t.match([refusedStale.status, refusedStale.body.fieldName, refusedStale.body.message], [401, "signedAt", /check the host's clock/], "a stale signature is refused");

  const hostAfter = await f.store.get(env.id, "host", owner.body.hostId);
  t.equal(hostAfter?.underlayIp, hostBefore?.underlayIp, "the underlay address was never the impostor's");
  t.equal(hostAfter?.identityKey, hostBefore?.identityKey, "the host keeps its key");

  // A host registered before identity keys existed cannot be claimed by whoever comes first.
  const legacy = { ...hostAfter!, id: "1hlegacy", name: "node-legacy", machineId: "machine-legacy" } as typeof hostAfter & object;
  delete (legacy as { identityKey?: string }).identityKey;
  await f.store.write(env.id, { put: [{ kind: "host", record: legacy }] });
  const claim = await f.call("POST", "/v1/register", { body: agent(env.registrationToken, { machineId: "machine-legacy", hostname: "node-legacy" }) });
  t.match([claim.status, claim.body.message], [409, /registered without an identity key/]);
});
