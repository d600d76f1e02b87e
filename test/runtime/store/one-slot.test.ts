import t from "tap";
import type Redis from "ioredis";
import { keySlot } from "../../../runtime/store/key-slot";
import { createEnv, host, instance, service, stack, storeFixture } from "./store-fixture";

/**
 * Redis Cluster refuses a script, a multi-key command or a MULTI whose keys are in different
 * slots (CROSSSLOT). On one Redis nothing refuses them, so this test records every command
 * the store and the leader lease send through a whole environment's life (for several
 * environment ids) and checks each one's keys, and each MULTI's, hash to one slot.
 */

interface Sent { name: string; keys: string[] }

function record(redis: Redis): Sent[] {
  const sent: Sent[] = [];
  let multi: Sent | undefined;
  const original = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: { name: string; getKeys(): (string | Buffer)[] }, ...rest: unknown[]) => {
    const keys = command.getKeys().map(String);
    if (command.name === "multi") multi = { name: "multi", keys: [] };
    else if (command.name === "exec") { if (multi) sent.push(multi); multi = undefined; }
    else if (multi) multi.keys.push(...keys);
    else sent.push({ name: command.name, keys });
    return (original as (...a: unknown[]) => unknown)(command, ...rest);
  }) as typeof redis.sendCommand;
  return sent;
}

const crossSlot = (sent: Sent[]) => sent.filter((s) => new Set(s.keys.map(keySlot)).size > 1);

t.test("every command and MULTI of an environment's life touches one slot", async (t) => {
  const f = storeFixture(t);
  const sent = record(f.redis);
  const envIds = ["e1", "prod", "env-7f3a", "a.b_c"];
  // Representative ids land on different slots (else the check would prove little).
  t.equal(new Set(envIds.map((id) => keySlot(f.keys.env(id).rev))).size, envIds.length, "the environments sit on different slots");
  for (const envId of envIds) {
    await createEnv(f, envId);
    await f.store.addRegistrationToken(envId, `second-${envId}`, {});
    await f.store.updateEnvironment(envId, { description: "x" });
    await f.store.registerHost(envId, host(envId, "h1", "one", { machineId: "m1" }), undefined);
    await f.store.registerHost(envId, host(envId, "h2", "two", { machineId: "m2" }), undefined);
    await f.store.provisionHostUser(envId, "h1", "pw-123456789012345678901234");
    const lease = await f.lease.acquireOrRenew(envId, "s1", 5000);
    const fence = lease.fence;
    await f.store.write(envId, {
      put: [{ kind: "stack", record: stack(envId, "st1") }, { kind: "service", record: service(envId, "sv1", "st1") },
        { kind: "instance", record: instance(envId, "i1", "sv1", "st1", "h1") }],
    });
    await f.store.snapshot(envId);
    await f.store.setDesired(envId, { hostId: "h1", generation: 0, instances: [] } as never, { fence });
    await f.store.setDns(envId, { entries: {} } as never, ["h1", "h2"], { fence });
    await f.store.setIpsec(envId, { pskId: "p1", psk: "secret" } as never);
    await f.store.heartbeats(envId, ["h1", "h2"]);
    await f.store.eventsAfter(envId, "0-0", 10);
    await f.lease.release(envId, "s1");
    await f.store.setEnvironmentState(envId, "removing");
    await f.store.purgeEnvironment(envId);
  }
  const scripts = sent.filter((s) => s.name === "evalsha" || s.name === "eval");
  t.ok(scripts.length >= envIds.length * 10, `the scripts ran (${scripts.length})`);
  t.ok(sent.some((s) => s.name === "multi" && s.keys.length > 1), "the snapshot's MULTI was seen");
  t.same(crossSlot(sent).map((s) => `${s.name} ${s.keys.join(" ")}`), [], "no command spans slots");
});

t.test("the recorder does catch a command across slots", async (t) => {
  const f = storeFixture(t);
  const sent = record(f.redis);
  await f.redis.mget(f.keys.env("e1").rev, f.keys.env("prod").rev);
  t.ok(crossSlot(sent).some((s) => s.name === "mget"), "MGET of two environments' keys is flagged");
});
