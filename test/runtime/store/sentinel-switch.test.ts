import t from "tap";
import Redis from "ioredis";
import { agentRedisOptions } from "../../../runtime/protocol/agent-redis-options";
import { startSentinelGroup } from "../../support/redis-sentinel";
import { waitFor } from "../../support/wait";

/**
 * A manual failover (SENTINEL FAILOVER): the old primary stays up and keeps taking writes
 * until the sentinels reconfigure it, seconds later. The server's client (its options as in
 * runtime/server/server.ts: the target's, plus failoverDetector) moves to the new primary
 * when the switch is announced. Agents do not subscribe (see server.ts): theirs follow once the
 * old primary is reconfigured (its clients are killed); an ACL-confined agent user is used here
 * to show the server's options work for any user.
 */
t.setTimeout(60_000);
t.test("after SENTINEL FAILOVER the server's writes reach the new primary, not the demoted one", async (t) => {
  const group = await startSentinelGroup({ replicas: 2, sentinels: 3 });
  t.teardown(() => group.stop());
  const p0 = await group.primaryPort();
  for (const port of group.dataPorts) {
    await group.node(port).call("ACL", "SETUSER", "agent-t", "on", ">agent-password-long", "~k", "-@all", "+get", "+set", "+ping", "+client|setname");
  }
  const agent = new Redis({ ...agentRedisOptions({ url: group.url, username: "agent-t", password: "agent-password-long", keyPrefix: "x" }, "agent-t", { lazyConnect: false }), failoverDetector: true });
  agent.on("error", () => undefined);
  t.teardown(() => agent.disconnect());
  await waitFor(async () => (await agent.set("k", "before").catch(() => null)) === "OK", { what: "agent connected", timeoutMs: 10_000 });

  const sentinel = group.node(group.sentinelPorts[0]);
  await sentinel.call("SENTINEL", "FAILOVER", group.name);
  await waitFor(async () => (await group.primaryPort()) !== p0, { what: "a new primary", timeoutMs: 20_000, maxIntervalMs: 100 });
  const p1 = await group.primaryPort();
  let n = 0;
  await waitFor(async () => {
    const value = `after-${n++}`;
    if ((await agent.set("k", value).catch(() => null)) !== "OK") return false;
    return (await group.node(p1).get("k")) === value;
  }, { what: "an agent write on the new primary", timeoutMs: 5_000, maxIntervalMs: 100 });
  t.pass(`writes reach the new primary ${p1} (old ${p0})`);
});
