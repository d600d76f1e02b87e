import Redis from "ioredis";
import * as fs from "fs";
import t from "tap";
import type { SavedIdentity } from "../../agent/identity";
import { makeKeys } from "../../runtime/protocol/keys";
import { hostUserAclRules } from "../../runtime/store/host-acl";
import { waitFor } from "../support/wait";
import { AgentWorld } from "./support/agent-world";
import { containersOfHost, desiredDoc, instance } from "./support/docker-fixture";

// The agent under the ACL the real server provisions (runtime/store/host-acl.ts: desired and
// nudges read-only, an explicit command list), not only under the fake's default rules.
t.test("a whole agent life under the store's host ACL rules", async (t) => {
  const world = await AgentWorld.create(t, undefined, {
    aclRules: ({ keyPrefix, envId, hostId, password }) => hostUserAclRules(makeKeys(keyPrefix), envId, hostId, password),
  });
  const agent = world.startAgent();
  const hostId = await world.waitRegistered(agent);
  const keys = world.keys(hostId);
  await waitFor(async () => (await world.admin.pttl(keys.heartbeat)) > 0, { what: "heartbeat" });

  await world.writeDesired(desiredDoc(hostId, 1, [instance(world.prefix, "i-a", "a-1"), instance(world.prefix, "i-b", "b-1")]));
  const observed = await world.waitObserved(1, (o) => Object.values(o.instances).filter((s) => s.state === "running").length === 2);
  t.equal(observed.appliedGeneration, 1, "observed written");
  t.ok((await world.reports()).some((r) => r.fields.type === "observed"), "reports appended");

  const creds = (JSON.parse(fs.readFileSync(world.identityFile(), "utf8")) as SavedIdentity).response.redis;
  const url = new URL(creds.url);
  const client = new Redis({ host: url.hostname, port: Number(url.port), username: creds.username, password: creds.password,
    enableReadyCheck: false, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  t.teardown(() => client.disconnect());
  await t.rejects(client.set(keys.desired, "{}"), /NOPERM/, "the host cannot forge its own desired state");

  await world.admin.xadd(keys.nudges, "*", "type", "teardown");
  const exit = await waitFor(() => (agent.running ? undefined : agent.exited), { what: "exit after teardown", timeoutMs: 30_000 });
  t.same(exit, { code: 0, signal: null }, "exit 0", { output: agent.tail() });
  t.same(await containersOfHost(world.docker, hostId), [], "containers removed");
  t.ok((await world.reports()).some((r) => r.fields.type === "teardown-done"), "teardown-done reported");
});
