import t from "tap";
import { makeKeys } from "../../../runtime/protocol/keys";
import { HostAclReplicas } from "../../../runtime/store/host-acl-replicas";
import { hostUserAclRules, provisionHostUser } from "../../../runtime/store/host-acl";
import { startSentinelGroup } from "../../support/redis-sentinel";

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
