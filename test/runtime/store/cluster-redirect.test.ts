import t from "tap";
import { createRedisClient } from "../../../runtime/protocol/redis-client";
import { parseRedisUrl } from "../../../runtime/protocol/redis-target";
import { keySlot } from "../../../runtime/store/key-slot";
import { withRedis } from "../../../runtime/store/redis-errors";
import { startRedisCluster } from "../../support/redis-cluster";

/**
 * A slot moved behind the client's back (a failover or a migration it has not seen yet) and
 * an auto-pipelined read of it sent in the same socket write as a write to another slot of the
 * same node: that node answers the read MOVED. ioredis follows a MOVED in a pipeline only when
 * every command of it failed alike (a write that went through cannot be sent again), so it
 * passes the MOVED on; the API answered it as a 503 (redis-cluster.test's migration, stop 29).
 * A MOVED means the command did not run: the store sends it again. A real 3-primary cluster.
 */
t.setTimeout(90_000);
t.test("a read refused MOVED inside an auto-pipeline is sent again, not reported failed", async (t) => {
  const cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 0 });
  t.teardown(() => cluster.stop());
  const client = createRedisClient(parseRedisUrl(cluster.url, "url"), { enableAutoPipelining: true, maxRetriesPerRequest: 1 });
  t.teardown(() => client.disconnect());
  const write = "{redirect-write}:counter";
  // A key on the same primary as `write` but in another slot, so the two share a pipeline.
  const source = await cluster.primaryOf(keySlot(write));
  let read = "";
  for (let i = 0; ; i++) {
    const candidate = `{redirect-read-${i}}:value`;
    if (keySlot(candidate) !== keySlot(write) && await cluster.primaryOf(keySlot(candidate)) === source) { read = candidate; break; }
  }
  const slot = keySlot(read);
  await client.set(read, "kept");
  await client.set(write, "0");

  // Move the read's slot (and its key) to another primary through admin connections only.
  await cluster.moveSlot(slot, (await cluster.primaries()).find((p) => p !== source)!);

  // Both in one tick: one auto-pipeline to the old owner; the write runs, the read is refused.
  const [incremented, value] = await Promise.all([
    withRedis(() => client.incr(write)),
    withRedis(() => client.get(read)).catch((err: Error) => err),
  ]);
  t.equal(incremented, 1, "the write in the same pipeline ran once");
  t.equal(value, "kept", "the refused read was sent again and answered by the slot's new primary");
  t.equal(await client.get(write), "1", "nothing ran twice");
});
