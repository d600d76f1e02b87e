/**
 * Service secrets (and the other secrets: certificate keys, the PSK) at rest: given in the
 * clear to the API, stored sealed with the environment's key, shown by no answer or event,
 * resealed for the one host that runs the container in its desired document.
 */
import { ClientRequest, request } from "http";
import t from "tap";
import { reconcileEnvironment } from "../../../runtime/reconcile/env-reconciler";
import { isSealed, sealedKeyId, unseal } from "../../../runtime/protocol/seal";
import { secretContext } from "../../../runtime/protocol/secret-contexts";
import type { HostDesiredState, HostRecord } from "../../../runtime/protocol/model";
import { signedRegistration, newHostKey } from "../../support/host-identity";
import { apiFixture, type ApiFixture } from "./api-fixture";

const SECRET = "s3cr3t-db-password-3a1f9c";
const ROTATED = "rotated-db-password-77b2e0";

async function activeHost(f: ApiFixture, env: { id: string; registrationToken: string }, name: string) {
  const reg = await f.call("POST", "/v1/register", {
    body: signedRegistration({ token: env.registrationToken, machineId: `m-${name}`, hostname: name, agentVersion: "1", dockerVersion: "1", kernelVersion: "1", underlayIp: "198.18.0.11" }, newHostKey()),
  });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${reg.text}`);
  const host = (await f.store.get(env.id, "host", reg.body.hostId))!;
  await f.store.write(env.id, { put: [{ kind: "host", record: { ...host, state: "active", subnet: "10.42.1.0/24" } as HostRecord }] });
  await f.redis.set(f.store.keys.host(env.id, host.id).heartbeat, "{}", "PX", 60_000);
  return reg.body;
}

/** Everything the API sends for `path` in the next changes: the events stream, as text. */
function collectEvents(f: ApiFixture, envId: string, key: string): { text: () => string; close: () => void } {
  let text = "";
  let req: ClientRequest | undefined = request(`${f.url}/v1/environments/${envId}/events`, { headers: { authorization: `Bearer ${key}` } }, (res) => {
    res.setEncoding("utf8");
    res.on("data", (d: string) => { text += d; });
    res.on("error", () => {});
  });
  req.on("error", () => {});
  req.end();
  return { text: () => text, close: () => { req?.destroy(); req = undefined; } };
}

t.test("service secrets: sealed at rest, never shown, resealed for the one host that runs the container", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  const events = collectEvents(f, env.id, env.apiKey);
  t.teardown(events.close);
  const reg = await activeHost(f, env, "node-a");
  const stack = (await f.call("POST", `/v1/environments/${env.id}/stacks`, { key: env.apiKey, body: { name: "app" } })).body;
  const created = await f.call("POST", `/v1/environments/${env.id}/services`, {
    key: env.apiKey, body: { stackId: stack.id, name: "db", image: "local/busybox", env: { MODE: "prod" }, secrets: { DB_PASSWORD: SECRET } },
  });
  t.equal(created.status, 201, created.text);
  t.same(created.body.spec.secretNames, ["DB_PASSWORD"], "the answer names the secret");
  t.notOk(created.text.includes(SECRET) || "secrets" in created.body.spec, "and shows no value");

  const stored = (await f.store.get(env.id, "service", created.body.id))!;
  t.ok(isSealed(stored.spec.secrets!.DB_PASSWORD), "stored sealed");
  const envKey = await f.keyring.envKey(env.id);
  t.equal(unseal(envKey, secretContext.service(stored.id, "DB_PASSWORD"), stored.spec.secrets!.DB_PASSWORD), SECRET, "with the environment's key");

  // A reconcile pass places the instance and writes the host's desired document.
  const lease = await f.store.redis.set(f.store.keys.env(env.id).leader, "srv:1", "PX", 60_000);
  t.equal(lease, "OK");
  const deps = { store: f.store, redis: f.redis, keys: f.store.keys, graceMs: 30_000, log: () => {} };
  await reconcileEnvironment(env.id, 1, deps);
  await reconcileEnvironment(env.id, 1, deps);
  const rawDesired = await f.redis.get(f.store.keys.host(env.id, reg.hostId).desired);
  const desired = JSON.parse(rawDesired!) as HostDesiredState;
  const inst = desired.instances.find((i) => i.serviceId === created.body.id)!;
  t.ok(inst, "the instance is on the host's desired document");
  const forHost = inst.spec.secrets!.DB_PASSWORD;
  t.equal(sealedKeyId(forHost), reg.secretsKey.id, "sealed with the host's own key (only its agent has it)");
  const hostKey = { id: reg.secretsKey.id, key: Buffer.from(reg.secretsKey.key, "base64") };
  t.equal(unseal(hostKey, secretContext.service(created.body.id, "DB_PASSWORD"), forHost), SECRET, "the agent opens it with its key");
  t.throws(() => unseal(envKey, secretContext.service(created.body.id, "DB_PASSWORD"), forHost), "not with the environment's");
  t.ok(isSealed(desired.network!.ipsec.psk) && sealedKeyId(desired.network!.ipsec.psk) === reg.secretsKey.id, "the PSK too is sealed for the host");

  // Nothing more to do: the document is not rewritten (sealing is deterministic).
  const generation = desired.generation;
  await reconcileEnvironment(env.id, 1, deps);
  t.equal(JSON.parse((await f.redis.get(f.store.keys.host(env.id, reg.hostId).desired))!).generation, generation, "a quiet pass leaves the document alone");

  // The same secrets again: no new version; another value: a new version (new containers).
  const same = await f.call("PATCH", `/v1/environments/${env.id}/services/${created.body.id}`, { key: env.apiKey, body: { secrets: { DB_PASSWORD: SECRET } } });
  t.equal(same.body.specVersion, 1, "an unchanged secret starts no upgrade");
  const rotated = await f.call("PATCH", `/v1/environments/${env.id}/services/${created.body.id}`, { key: env.apiKey, body: { secrets: { DB_PASSWORD: ROTATED } } });
  t.equal(rotated.body.specVersion, 2, "a new value rolls out as a new version");

  // Refusals name the variable and never quote a value.
  const clash = await f.call("PATCH", `/v1/environments/${env.id}/services/${created.body.id}`, { key: env.apiKey, body: { secrets: { MODE: SECRET } } });
  t.match([clash.status, clash.body.fieldName, clash.body.message], [422, "secrets.MODE", /not also in env/]);
  t.notOk(clash.text.includes(SECRET), "the refusal does not quote the value");

  // Nowhere in the clear: answers, instances, events, Redis.
  const answers = [
    await f.call("GET", `/v1/environments/${env.id}/services/${created.body.id}`, { key: env.apiKey }),
    await f.call("GET", `/v1/environments/${env.id}/services`, { key: env.apiKey }),
    await f.call("GET", `/v1/environments/${env.id}/instances`, { key: env.apiKey }),
  ];
  for (const a of answers) t.notOk(a.text.includes(SECRET) || a.text.includes(ROTATED) || a.text.includes("drs1."), `no value, sealed or not, in ${a.body.type}`);
  t.match(answers[2].body.data[0].spec, { secretNames: ["DB_PASSWORD"] });
  t.ok(events.text().includes("service.updated"), "events came");
  t.notOk(events.text().includes(SECRET) || events.text().includes(ROTATED) || events.text().includes("drs1."), "no value in any event");
  const dump = JSON.stringify(await f.dump());
  t.notOk(dump.includes(SECRET) || dump.includes(ROTATED), "Redis holds no secret in the clear");
  const psk = await f.store.getIpsec(env.id);
  t.ok(psk && isSealed(psk.psk), "the PSK is sealed at rest");
  t.notOk(dump.includes(unseal(envKey, secretContext.psk(psk!.pskId), psk!.psk)), "and appears nowhere in the clear");
});
