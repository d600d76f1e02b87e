import { putMachineIntent } from "../../../runtime/store/machine-intents";
import t from "tap";
import { Keyring } from "../../../runtime/secrets/keyring";
import { RedisStore } from "../../../runtime/store/redis-store";
import {
  createEnv, droverError, envRecord, host, instance, keysUnder, service, stack, storeFixture, streamEntries,
} from "./store-fixture";

// Environments: creation with API key and token, lookups, state changes, purge.

t.test("createEnvironment writes the record, API key and token together", async (t) => {
  const f = storeFixture(t);
  const env = await f.store.createEnvironment(envRecord("e1"), "key-hash", "token-hash");
  t.same(env, { ...envRecord("e1"), rev: 1 }, "returns the record at rev 1");
  t.same(await f.store.getEnvironment("e1"), env, "readable");
  t.same(await f.store.listEnvironments(), [env], "listed");
  t.equal(await f.store.envIdForApiKey("key-hash"), "e1", "API key resolves");
  t.equal(await f.store.envIdForRegistrationToken("token-hash"), "e1", "token resolves");
  t.same(await f.store.listRegistrationTokens("e1"), [{ tokenHash: "token-hash", meta: {} }], "the first token has empty meta");
  t.ok(await f.redis.hexists(f.keys.env("e1").keys, "key-hash"), "the env's own key list has the key");
  t.equal(await f.store.envIdForApiKey("other"), undefined, "unknown key: undefined");
  t.equal(await f.store.getEnvironment("e404"), undefined, "unknown env: undefined");
});

t.test("createEnvironment is all or nothing", async (t) => {
  const f = storeFixture(t);
  await f.store.createEnvironment(envRecord("e1"), "key-1", "token-1");

  t.equal((await droverError(f.store.createEnvironment(envRecord("e1"), "key-2", "token-2"), "Conflict")).field, "id", "same id twice");
  t.equal(await f.store.envIdForApiKey("key-2"), undefined, "its key was not added");
  t.equal(await f.store.envIdForRegistrationToken("token-2"), undefined, "nor its token");

  t.equal((await droverError(f.store.createEnvironment(envRecord("e2"), "key-1", "token-3"), "Conflict")).field, "apiKey", "API key in use");
  t.equal((await droverError(f.store.createEnvironment(envRecord("e2"), "key-3", "token-1"), "Conflict")).field, "token", "token in use");
  t.equal(await f.store.getEnvironment("e2"), undefined, "e2 was not created");
  t.equal(await f.redis.exists(f.keys.env("e2").rev, f.keys.env("e2").keys, f.keys.env("e2").tokens), 0, "no e2 keys exist");
  t.equal(await f.store.envIdForRegistrationToken("token-3"), undefined, "no half-written index entries");
});

t.test("addRegistrationToken adds to the env and the global index", async (t) => {
  const f = storeFixture(t);
  await createEnv(f, "e1");
  await createEnv(f, "e2");
  await f.store.addRegistrationToken("e1", "second", { description: "for CI" });
  t.equal(await f.store.envIdForRegistrationToken("second"), "e1");
  t.same((await f.store.listRegistrationTokens("e1")).find((x) => x.tokenHash === "second")?.meta, { description: "for CI" });
  t.equal((await droverError(f.store.addRegistrationToken("e2", "second", {}), "Conflict")).field, "token", "another env's token");
  await droverError(f.store.addRegistrationToken("e404", "third", {}), "NotFound");
  t.equal(await f.store.envIdForRegistrationToken("third"), undefined, "nothing written for an unknown env");
});

t.test("setEnvironmentState bumps the rev, nudges and tells the event stream", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  await f.store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s1") }] });
  const env = await f.store.setEnvironmentState("e1", "removing");
  t.match(env, { id: "e1", state: "removing", rev: 3 });
  t.same(await f.store.getEnvironment("e1"), env, "stored");
  const events = await streamEntries(f.redis, f.keys.env("e1").events);
  t.same(events.at(-1)?.fields, { type: "environment", action: "updated", id: "e1", rev: "3" });
  t.same((await streamEntries(f.redis, f.keys.env("e1").reconcile)).at(-1)?.fields, { type: "write", rev: "3" });
  t.equal(await f.store.setEnvironmentState("e404", "removing"), undefined, "unknown env: undefined");

  const renamed = await f.store.updateEnvironment("e1", { name: "prod", description: "the big one" });
  t.match(renamed, { name: "prod", description: "the big one", state: "removing", network: { cidr: "10.42.0.0/16" }, rev: 4 });
  await droverError(f.store.updateEnvironment("e1", { id: "x" } as never), "UnknownField");
});

t.test("concurrent environment updates do not lose each other", async (t) => {
  const f = storeFixture(t);
  await createEnv(f);
  const other = new RedisStore(f.connect(), f.keys);
  await Promise.all([
    f.store.updateEnvironment("e1", { name: "renamed" }),
    other.updateEnvironment("e1", { description: "described" }),
  ]);
  t.match(await f.store.getEnvironment("e1"), { name: "renamed", description: "described" }, "both changes survive");
});

t.test("purgeEnvironment removes every key of the environment and its global entries, and nothing else", async (t) => {
  const f = storeFixture(t);
  for (const envId of ["e1", "e2"]) {
    await createEnv(f, envId);
    await f.store.addRegistrationToken(envId, `${envId}-token-2`, {});
    await f.store.write(envId, {
      put: [
        // machineIds fill the machine index (registration's lookup), which the purge must remove too.
        { kind: "host", record: { ...host(envId, "h1"), machineId: "m1" } }, { kind: "host", record: { ...host(envId, "h2"), machineId: "m2" } },
        { kind: "stack", record: stack(envId, "s1") }, { kind: "service", record: service(envId, "sv1", "s1") },
        { kind: "instance", record: instance(envId, "i1", "sv1", "s1", "h1") },
        { kind: "loadBalancer", record: {
          id: "lb1", envId, stackId: "s1", name: "edge", state: "active", transitioning: "no", served: false, createdAt: "x", rev: 0,
          spec: { portRules: [{ sourcePort: 80, protocol: "http", targetServiceId: "sv1", targetPort: 80 }], certificateIds: [], scale: 1, global: false, labels: {} },
        } },
        { kind: "certificate", record: {
          id: "c1", envId, name: "www", cert: "PEM", key: "KEY", commonName: "www.example.com", subjectAlternativeNames: [],
          issuer: "x", notBefore: "x", notAfter: "x", fingerprint: "x", state: "active", createdAt: "x", rev: 0,
        } },
      ],
    });
    // A removed host's identity key goes to the revoked set (the write that removes the record).
    await f.store.write(envId, { put: [{ kind: "host", record: { ...host(envId, "h3"), machineId: "m3", identityKey: "PEM-h3" } }] });
    await f.store.write(envId, { remove: [{ kind: "host", id: "h3" }] });
    const lease = await f.lease.acquireOrRenew(envId, "server-a", 60_000);
    for (const hostId of ["h1", "h2"]) {
      await f.store.setDesired(envId, { hostId, generation: 0, instances: [] }, { fence: lease.fence });
      const h = f.keys.host(envId, hostId);
      await f.redis.set(h.heartbeat, "beat", "PX", 60_000);
      await f.redis.set(h.observed, "{}");
      await f.redis.xadd(h.reports, "*", "type", "observed");
      await f.store.provisionHostUser(envId, hostId, "a-long-enough-password");
    }
    await f.redis.incr(f.keys.env(envId).seq);
    // The keyring's keys (runtime/secrets/keyring.ts): the environment's data key and its hosts' keys.
    const keyring = new Keyring(f.redis, f.keys, { id: "mtest", key: Buffer.alloc(32, 1) });
    await keyring.hostKeyForRegistration(envId, "h1");
    await f.store.setIpsec(envId, { pskId: "k1", psk: "secret" });
    await f.store.setDns(envId, { instances: [], services: [], stacks: [] }, ["h1"], {});
    // A cloud Host's create in progress (runtime/store/machine-intents.ts).
    await putMachineIntent(f.redis, f.keys, envId, { name: "web1", driver: "digitalocean", tag: `drover-host:${envId}:web1`, sealed: "drs1.mi1.AAAA", createdAt: "now" });
  }
  const tagOf = (envId: string) => `${f.prefix}:{${envId}}:*`;
  const e1KeysBefore = await keysUnder(f.redis, tagOf("e1"));
  const e1Keys = f.keys.env("e1");
  t.same(e1KeysBefore, [
    ...Object.values(e1Keys),
    ...["h1", "h2"].flatMap((h) => { const k = f.keys.host("e1", h); return [k.desired, k.nudges, k.observed, k.reports, k.heartbeat]; }),
  ].sort(), "the fixture filled every env and host key");
  const e2Before = await keysUnder(f.redis, tagOf("e2"));

  await f.store.purgeEnvironment("e1");

  t.same(await keysUnder(f.redis, tagOf("e1")), [], "SCAN finds no key with e1's tag");
  t.equal(await f.redis.hexists(f.keys.environments(), "e1"), 0, "not in environments");
  t.same(Object.values(await f.redis.hgetall(f.keys.apiKeys())), ["e2"], "no API key of e1 left");
  t.same(Object.values(await f.redis.hgetall(f.keys.registrationTokens())), ["e2", "e2"], "no token of e1 left");
  const users = (await f.redis.call("ACL", "USERS")) as string[];
  t.notOk(users.some((u) => u.startsWith(`${f.prefix}-host-e1-`)), "e1's host users are gone");
  t.ok(users.includes(`${f.prefix}-host-e2-h1`), "e2's stay");
  t.same(await keysUnder(f.redis, tagOf("e2")), e2Before, "e2 untouched");
  t.ok(await f.store.getEnvironment("e2"), "e2 still readable");

  await f.store.purgeEnvironment("e1");
  t.pass("purging again is a no-op");
});
