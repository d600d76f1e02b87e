import t from "tap";
import Redis from "ioredis";
import { parseRedisUrl, redisTargetOptions } from "../../../runtime/protocol/redis-target";
import { reviveWhenEnded } from "../../../runtime/protocol/redis-revive";
import { startSentinelGroup } from "../../support/redis-sentinel";
import { waitFor } from "../../support/wait";

/**
 * The TLS Sentinel failover defect (issue 15), made deterministic: ioredis's failover detector
 * disconnects the Sentinel connector when +switch-master arrives; if the client is reconnecting
 * at that moment (asking a sentinel where the primary is), the pending connect rejects with
 * "Connection is closed." and the client ends for good. Here the detector's call is made at the
 * same point (the connector's disconnect while the client is "connecting") on the server's own
 * options, without and with reviveWhenEnded.
 */
t.setTimeout(60_000);
t.test("a Sentinel client whose connect is cut by the failover detector ends for good unless revived", async (t) => {
  const group = await startSentinelGroup({ replicas: 1, sentinels: 1 });
  t.teardown(() => group.stop());
  const options = { ...redisTargetOptions(parseRedisUrl(group.url, "url"), undefined), failoverDetector: true, maxRetriesPerRequest: 1 };
  const cutWhileConnecting = async (client: Redis) => {
    await waitFor(async () => (await client.ping().catch(() => "")) === "PONG", { what: "client ready", timeoutMs: 10_000 });
    // What FailoverDetector.disconnect() does, at the moment a reconnect is asking the sentinels.
    client.once("connecting", () => (client as unknown as { connector: { disconnect(): void } }).connector.disconnect());
    client.disconnect(true);
  };

  const plain = new Redis(options);
  const plainErrors: string[] = [];
  plain.on("error", (err: Error) => plainErrors.push(err.message));
  t.teardown(() => plain.disconnect());
  await cutWhileConnecting(plain);
  await waitFor(() => plain.status === "end", { what: "the unrevived client to end", timeoutMs: 10_000 });
  t.ok(plainErrors.includes("Connection is closed."), "it ended on \"Connection is closed.\" (what every refused write said)");
  await t.rejects(plain.set("k", "v"), /Connection is closed/, "every command after it fails at once: the defect");

  const revived = new Redis(options);
  const logged: { message: string; fields: Record<string, unknown> }[] = [];
  let closing = false;
  reviveWhenEnded(revived, { name: "main", closing: () => closing, log: (message, fields) => logged.push({ message, fields }) });
  t.teardown(() => { closing = true; revived.disconnect(); });
  await cutWhileConnecting(revived);
  await waitFor(async () => (await revived.set("k", "after").catch(() => null)) === "OK", { what: "the revived client to write again", timeoutMs: 10_000 });
  const ended = logged.find((l) => /ended without being closed/.test(l.message));
  t.ok(ended, "the revival is logged");
  t.equal(ended?.fields.lastError, "Connection is closed.", "with the reason the client ended");
  t.equal(await group.node(await group.primaryPort()).get("k"), "after", "the write is on the primary");

  // A close on purpose is left closed.
  closing = true;
  revived.disconnect();
  await waitFor(() => revived.status === "end", { what: "the closed client to end", timeoutMs: 5_000 });
  const count = logged.filter((l) => /ended without/.test(l.message)).length;
  t.equal(count, 1, "closing on purpose is not revived");
});
