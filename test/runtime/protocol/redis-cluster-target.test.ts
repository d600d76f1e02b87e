import t from "tap";
import { Cluster } from "ioredis";
import { parseRedisUrl, redisAddresses, redisUrlWithoutCredentials } from "../../../runtime/protocol/redis-target";
import { createRedisClient, createRedisClientForUrl, duplicateClient, isCluster } from "../../../runtime/protocol/redis-client";
import { agentRedisOptions } from "../../../runtime/protocol/agent-redis-options";

t.test("redis+cluster:// URLs parse into seed nodes and make a Cluster client", async (t) => {
  const target = parseRedisUrl("redis+cluster://admin:s%40cret@10.0.0.1:7000,10.0.0.2,[::1]:7002", "--redis");
  t.same(target, { tls: false, username: "admin", password: "s@cret", cluster: { nodes: [{ host: "10.0.0.1", port: 7000 }, { host: "10.0.0.2", port: 6379 }, { host: "::1", port: 7002 }] }, db: 0 });
  t.same(redisAddresses(target), ["10.0.0.1", "10.0.0.2", "::1"]);
  t.equal(parseRedisUrl("rediss+cluster://a:1", "x").tls, true, "rediss+cluster: TLS");
  t.equal(redisUrlWithoutCredentials("redis+cluster://u:p@a:1,b:2"), "redis+cluster://a:1,b:2", "credentials stripped for agents");
  const client = createRedisClient(target, { lazyConnect: true, enableAutoPipelining: true, username: "admin", password: "s@cret" });
  t.ok(client instanceof Cluster && isCluster(client), "a Cluster");
  const cluster = client as unknown as Cluster;
  t.same([cluster.options.lazyConnect, cluster.options.enableAutoPipelining, cluster.options.redisOptions?.username], [true, true, "admin"],
    "client-wide options on the Cluster, credentials per node");
  const dup = duplicateClient(client, { connectionName: "watch", enableAutoPipelining: false }) as unknown as Cluster;
  t.same([dup.options.enableAutoPipelining, dup.options.redisOptions?.connectionName, dup.options.redisOptions?.username], [false, "watch", "admin"], "a duplicate keeps credentials");
  const agent = createRedisClientForUrl("redis+cluster://a:1,b:2", "redis.url",
    agentRedisOptions({ url: "redis+cluster://a:1,b:2", username: "host-u", password: "pw-pw-pw-pw-pw-pw", keyPrefix: "d" }, "c")) as unknown as Cluster;
  t.same([agent.options.enableReadyCheck, agent.options.enableOfflineQueue, agent.options.redisOptions?.username], [false, false, "host-u"], "agents: no ready check (CLUSTER INFO is not granted), their own user");
  for (const c of [client, dup, agent]) c.disconnect();
});

t.test("bad cluster URLs are refused naming the flag and what was expected", async (t) => {
  t.throws(() => parseRedisUrl("redis+cluster://a:1,b:2/3", "--redis"), /--redis: .*takes no \/path/);
  t.throws(() => parseRedisUrl("redis+cluster://a:0", "--redis"), /port 0 out of range/);
  t.throws(() => parseRedisUrl("redis+clusters://a:1", "--redis"), /redis\+cluster:\/\/host:port/);
});
