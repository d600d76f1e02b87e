import t from "tap";
import { makeKeys } from "../../../runtime/protocol/keys";
import { HostAclReplicas } from "../../../runtime/store/host-acl-replicas";
import { hostUserAclRules, provisionHostUser } from "../../../runtime/store/host-acl";
import { startSentinelGroup } from "../../support/redis-sentinel";
import { startPrivateRedis } from "../../support/redis-server";
import { waitFor } from "../../support/wait";
import { AclSyncTurn } from "../../../runtime/store/acl-sync-turn";

/** Host users on replicas: written through at provisioning, and a replica that drifted is brought back in step. */
t.test("replicas get each host user at provisioning and are kept equal to the primary", async (t) => {
  const group = await startSentinelGroup({ replicas: 1, sentinels: 1 });
  t.teardown(() => group.stop());
  const [primaryPort, replicaPort] = group.dataPorts;
  const primary = group.node(primaryPort);
  const replica = group.node(replicaPort);
  const keys = makeKeys("acltest");
  const logged: string[] = [];
  const replicas = new HostAclReplicas(primary, {}, "acltest-host-", (m) => logged.push(m), 60_000);
  t.teardown(() => replicas.stop());
  const users = async (node: typeof primary) => ((await node.call("ACL", "LIST")) as string[]).filter((l) => l.startsWith("user acltest-host-")).sort();

  const { username } = await provisionHostUser(primary, keys, "e1", "h1", "a-long-enough-password-1");
  await replicas.provision(username, hostUserAclRules(keys, "e1", "h1", "a-long-enough-password-1"));
  const sorted = async (node: typeof primary) => (await users(node)).map((l) => l.split(" ").sort().join(" "));
  t.same(await sorted(replica), await sorted(primary), "written through to the replica");

  // Drift: the replica lost h1 (it was down) and holds a user the primary no longer has.
  await replica.call("ACL", "DELUSER", username);
  await replica.call("ACL", "SETUSER", "acltest-host-e1-gone", "on", ">x-password-long-enough", "-@all");
  await provisionHostUser(primary, keys, "e1", "h2", "a-long-enough-password-2");
  await replica.call("ACL", "SETUSER", "unrelated-user", "on", ">p", "-@all");
  await replicas.sync();
  t.same(await sorted(replica), await sorted(primary), "sync: missing users added, stray host users deleted");
  t.equal((await users(replica)).length, 2, "h1 and h2");
  t.ok(await replica.call("ACL", "GETUSER", "unrelated-user"), "users that are not drover's host users are left alone");
  t.same(logged, [], "no replica failed");
});

/**
 * The periodic sync runs on one server per interval (acl-sync-turn.ts): every server listing
 * 5,000 users every 5 s cost the nodes seconds of CPU at scale. Ticks while another server
 * holds the turn list nothing; once it is free, a tick takes it and syncs.
 */
t.test("the periodic sync skips the ticks another server has the turn for, and takes a free turn", async (t) => {
  const redis = await startPrivateRedis();
  t.teardown(() => redis.stop());
  const admin = redis.client();
  const keys = makeKeys("aclturn");
  const calls = async (command: string) => Number(new RegExp(`cmdstat_${command.replace("|", "\\|")}:calls=(\\d+)`).exec(await admin.info("commandstats"))?.[1] ?? 0);
  await admin.set(keys.aclSyncTurn(), "server-b", "PX", 60_000);
  const replicas = new HostAclReplicas(admin, {}, "aclturn-host-", () => undefined, 50, new AclSyncTurn(admin, keys.aclSyncTurn(), "server-a"));
  t.teardown(() => replicas.stop());
  await admin.config("RESETSTAT");
  replicas.start(); // connecting counts as a topology change: one sync, not asking for the turn
  await waitFor(async () => (await calls("set")) >= 4, { what: "four ticks asking for the turn", timeoutMs: 10_000 });
  t.equal(await calls("acl|list"), 1, "while server-b has the turn: only the start's sync listed users");
  t.equal(await admin.get(keys.aclSyncTurn()), "server-b", "the turn stays server-b's");

  await admin.del(keys.aclSyncTurn()); // server-b gone: its turn expired
  await waitFor(async () => (await calls("acl|list")) >= 2, { what: "a tick to take the free turn and sync", timeoutMs: 10_000 });
  t.equal(await admin.get(keys.aclSyncTurn()), "server-a", "server-a has the turn now");
});
