import t from "tap";
import { parseRedisUrl, redisTargetOptions, redisUrlWithoutCredentials } from "../../../runtime/protocol/redis-target";
import { agentRedisOptions } from "../../../runtime/protocol/agent-redis-options";

t.test("one Redis and Sentinel URLs parse into ioredis options", async (t) => {
  t.same(parseRedisUrl("redis://127.0.0.1:6380", "--redis"), { tls: false, username: undefined, password: undefined, host: "127.0.0.1", port: 6380, db: 0 });
  t.same(parseRedisUrl("rediss://u:p%40ss@r.example:7000/2", "--redis"), { tls: true, username: "u", password: "p@ss", host: "r.example", port: 7000, db: 2 });
  const s = parseRedisUrl("redis+sentinel://10.0.0.1:26379,10.0.0.2,[::1]:26380/mymaster", "--redis");
  t.same(s.sentinel, { nodes: [{ host: "10.0.0.1", port: 26379 }, { host: "10.0.0.2", port: 26379 }, { host: "::1", port: 26380 }], name: "mymaster" }, "sentinels, default port 26379");
  const o = redisTargetOptions(parseRedisUrl("rediss+sentinel://a:1,b:2/m", "x"), { ca: "CA", minVersion: "TLSv1.2" });
  t.same([o.name, o.sentinels, o.enableTLSForSentinelMode, o.tls, o.sentinelTLS], ["m", [{ host: "a", port: 1 }, { host: "b", port: 2 }], true, { ca: "CA", minVersion: "TLSv1.2" }, { ca: "CA", minVersion: "TLSv1.2" }],
    "TLS to the sentinels and to the data nodes");
  t.equal(redisUrlWithoutCredentials("redis+sentinel://admin:secret@a:1,b:2/m"), "redis+sentinel://a:1,b:2/m", "credentials stripped for agents");
  const agent = agentRedisOptions({ url: "redis+sentinel://a:1,b:2/m", username: "host-u", password: "pw-pw-pw-pw-pw-pw", keyPrefix: "d" }, "c");
  t.same([agent.name, agent.username, agent.enableReadyCheck], ["m", "host-u", false], "agents follow the sentinels as their own user");
});

t.test("bad URLs are refused naming the flag and what was expected", async (t) => {
  t.throws(() => parseRedisUrl("http://x:1", "--redis"), /--redis: "http:\/\/x:1": expected redis:\/\/host:port/);
  t.throws(() => parseRedisUrl("redis+sentinel://a:1,b:2", "--redis"), /master name is missing/);
  t.throws(() => parseRedisUrl("redis://a:1,b:2", "--redis"), /a list of addresses needs redis\+sentinel/);
  t.throws(() => parseRedisUrl("redis://a:99999", "--redis"), /port 99999 out of range/);
  t.throws(() => parseRedisUrl("redis://a:1/x", "--redis"), /database "x" is not a number/);
});
