import t from "tap";
import Redis from "ioredis";
import { defineScripts, runScript, type LuaScript } from "../../../runtime/store/scripts";
import { redisUrl } from "./store-fixture";

// A script call with a very large batch on the server's kind of client (auto-pipelining): the
// scale bench's placement of 25,000 instances in one write (75,000 arguments) overflowed the
// stack inside ioredis and crashed the server. 300,000 arguments here.
const countArgs: LuaScript = { name: "droverTestCountArgs", lua: "return {#KEYS, #ARGV, ARGV[#ARGV]}" };

t.test("a script with 300,000 arguments on an auto-pipelining client", async (t) => {
  const redis = new Redis(redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 1 });
  t.teardown(() => redis.disconnect());
  defineScripts(redis, [countArgs]);
  const args = Array.from({ length: 300_000 }, (_, i) => `a${i}`);
  const [reply, ping] = await Promise.all([runScript(redis, countArgs, ["k1", "k2"], args), redis.ping()]);
  t.same(reply, [2, 300_000, "a299999"], "every key and argument arrived, in order");
  t.equal(ping, "PONG", "a command pipelined with it gets its own reply");
});
