import Redis from "ioredis";
import t from "tap";
import { reconcileEnvironment } from "../../../runtime/reconcile/env-reconciler";
import { hostAgentRedisOptions } from "../../../runtime/store/agent-redis-options";
import type { Store } from "../../../runtime/store/store";
import { createEnv, host, storeFixture } from "../store/store-fixture";

// A host removed by the API: once its agent is done (or silent), the pass removes the record
// and its keys. The agent keeps beating until its Redis user is gone, so a beat that lands
// right after the records are removed must be refused: the user goes first. (Before, the user
// went after the write, and engine-lab found a `heartbeat` or `stats` key left behind the host.)
const f = storeFixture(t);
const password = "agent-password-0123456789";

t.test("a removed host's user is gone before its keys are, so a late beat is refused", async (t) => {
  const envId = await createEnv(f).then(() => "e1");
  await f.store.write(envId, { put: [{ kind: "host", record: host(envId, "h1", "h1", { state: "removing" }) }] });
  const { username } = await f.store.provisionHostUser(envId, "h1", password);
  const agent = new Redis(hostAgentRedisOptions({ url: "redis://127.0.0.1:6379", username, password, keyPrefix: f.prefix },
    { maxRetriesPerRequest: 0, retryStrategy: () => null }));
  agent.on("error", () => undefined);
  t.teardown(() => agent.disconnect());
  const heartbeat = f.keys.host(envId, "h1").heartbeat;
  t.equal(await agent.ping(), "PONG", "the agent is logged in as its host user");

  // The agent's beat, right after the pass's write removed the host's record and keys.
  let lateBeat: string | undefined;
  const store = new Proxy(f.store, {
    get(target, prop, receiver) {
      if (prop !== "writeOn") return Reflect.get(target, prop, receiver);
      return async (...args: Parameters<Store["writeOn"]>) => {
        const written = await target.writeOn(...args);
        lateBeat = await agent.set(heartbeat, "beat", "PX", 15_000).then(() => "accepted", (err: Error) => `refused: ${err.message}`);
        return written;
      };
    },
  }) as Store;

  await f.redis.set(f.keys.env(envId).leader, "srv:1", "PX", 60_000);
  const result = await reconcileEnvironment(envId, 1, { store, redis: f.redis, keys: f.keys, graceMs: 30_000, log: () => undefined });
  t.same(result.plan?.removedHosts, ["h1"], "the pass removed the host (no heartbeat: its agent is silent)");
  t.match(lateBeat, /^refused/, "a beat after the records were removed is refused");
  t.equal(await f.redis.exists(heartbeat), 0, "no heartbeat key left behind the host");
  t.equal(await f.store.get(envId, "host", "h1"), undefined, "the host's record is gone");
  const users = (await f.redis.call("ACL", "USERS")) as string[];
  t.notOk(users.includes(username), "its Redis user is gone");
});
