import { createServer } from "net";
import Redis from "ioredis";
import t from "tap";
import { makeKeys } from "../../../runtime/protocol/keys";
import { LeaderLease } from "../../../runtime/store/leader-lease";
import { RedisStore } from "../../../runtime/store/redis-store";
import { droverError, stack } from "./store-fixture";

// With Redis unreachable, every store call fails fast with a retryable "Unavailable".

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

t.test("Redis down: Unavailable, retryable", async (t) => {
  const client = new Redis({ host: "127.0.0.1", port: await closedPort(), maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  client.on("error", () => undefined);
  // Once given up (retryStrategy null) it is "end"; disconnecting again would only arm a timer.
  t.teardown(() => { if (client.status !== "end") client.disconnect(); });
  const keys = makeKeys("t-down");
  const store = new RedisStore(client, keys);

  for (const [what, call] of [
    ["get", () => store.get("e1", "stack", "s1")],
    ["write", () => store.write("e1", { put: [{ kind: "stack", record: stack("e1", "s1") }] })],
    ["snapshot", () => store.snapshot("e1")],
    ["heartbeats", () => store.heartbeats("e1", ["h1"])],
    ["lease", () => new LeaderLease(client, keys).acquireOrRenew("e1", "a", 1000)],
  ] as const) {
    const err = await droverError(call(), "Unavailable");
    t.equal(err.retryable, true, `${what}: Unavailable, retryable`);
  }
});

t.test("a store built from options owns and closes its client", async (t) => {
  const store = new RedisStore({ host: "127.0.0.1", port: 6379, maxRetriesPerRequest: 1 }, makeKeys("t-owned"));
  t.equal(await store.get("e1", "stack", "nope"), undefined, "works");
  await store.close();
  t.equal(store.redis.status, "end", "closed");
});
