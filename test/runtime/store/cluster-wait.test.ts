import t from "tap";
import { ClusterWaiter } from "../../../runtime/store/cluster-wait";
import { keySlot } from "../../../runtime/store/key-slot";
import { startRedisCluster } from "../../support/redis-cluster";
import { waitFor } from "../../support/wait";

/**
 * WAIT on a primary that a failover demoted after its ROLE was read: the write is reported
 * short (the server answers 503, retryable), not thrown as Redis's "WAIT cannot be used with
 * replica instances" (a 500). A real 3+3 cluster; a manual CLUSTER FAILOVER. Run under labslot.
 */
t.setTimeout(90_000);
t.test("a primary demoted since its ROLE was read: reported short, not an error", async (t) => {
  const cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 1 });
  t.teardown(() => cluster.stop());
  const client = cluster.client();
  const key = "{cw}:k";
  await client.set(key, "1");
  // The role is trusted for the whole test, as it is for up to a second in the server.
  const waiter = new ClusterWaiter(client, 600_000);
  t.same(await waiter.wait(1, 1000), [], "before the failover, every primary's replica has the write");
  const primary = await cluster.primaryOf(keySlot(key));
  const [replica] = await cluster.replicasOf(primary);
  await cluster.node(replica).call("CLUSTER", "FAILOVER");
  await waitFor(async () => ((await cluster.node(primary).call("ROLE")) as unknown[])[0] === "slave", { what: "the old primary demoted", timeoutMs: 30_000 });
  const short = await waiter.wait(1, 1000);
  t.same(short.map((s) => [s.node.endsWith(`:${primary}`), s.acked]), [[true, 0]], `the demoted primary is reported short (${JSON.stringify(short)})`);
});
