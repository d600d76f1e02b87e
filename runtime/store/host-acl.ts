import { createHash } from "crypto";
import type Redis from "ioredis";
import { DroverError } from "../protocol/errors";
import type { Keys } from "../protocol/keys";
import { withRedis } from "./redis-errors";

/**
 * Per-host Redis ACL users: each agent logs in as its own user, which can touch only its
 * host's keys, and only with the commands the agent protocol needs.
 *
 * Commands are granted one by one after `-@all`: categories grant far more than they seem
 * (@write includes FLUSHALL; @keyspace and @read include SCAN/KEYS, which list every key
 * name whatever the key patterns; @scripting includes FUNCTION FLUSH). See
 * /work/shared/notes/redis.md.
 *
 * What the agent does, and the command each needs:
 * - get          read its desired document (and its own observed document after a restart)
 * - set          write its observed document and its heartbeat (SET ... PX ttl)
 * - xadd         append to its reports stream (XADD ... MAXLEN ~ n)
 * - xread        wait for nudges (XREAD BLOCK ms STREAMS nudges <id>)
 * - xrange, xrevrange  read stream entries; XREVRANGE nudges + - COUNT 1 gives the id to
 *                read from before fetching the desired document, so no nudge is missed
 * - ping         connection health checks
 * - client|setname  ioredis `connectionName`, so CLIENT LIST shows which host is connected
 * - cluster|slots  on Redis Cluster, ioredis's Cluster client learns which node serves which
 *                slot (topology only: no key names, no data)
 * - asking       on Redis Cluster, while a slot migrates, an ASK redirection is followed by
 *                ASKING on the target node (a flag for the next command, still under the key rules)
 * Not granted, on purpose: info (ioredis's ready check: agents set enableReadyCheck: false),
 * client|setinfo (ioredis: disableClientInfo: true; ioredis ignores the refusal anyway),
 * select (agents use db 0), pexpire/del/eval/multi (not needed).
 * AUTH, HELLO, QUIT and RESET are always allowed by Redis to every user (verified in
 * test/runtime/store/host-acl.test.ts), so they need no grant.
 *
 * Keys are narrower than the host's `aclPattern`: the desired document and the nudges stream
 * are read-only (`%R~`), so a compromised host cannot forge its own desired state or nudges;
 * so is the environment's DNS document, the one key a host shares with its peers;
 * observed, reports, heartbeat and stats are read-write. No pub/sub channels.
 */
export const hostAgentCommands = [
  "get", "set", "xadd", "xread", "xrange", "xrevrange", "ping", "client|setname", "cluster|slots", "asking",
] as const;

/** The start of every host user's name: of one environment's hosts, or (no envId) of all. */
export function hostUsernamePrefix(keys: Keys, envId?: string): string {
  return envId === undefined ? `${keys.prefix}-host-` : `${keys.prefix}-host-${envId}-`;
}

/** The ACL user of one host: `<prefix>-host-<envId>-<hostId>`. */
export function hostUsername(keys: Keys, envId: string, hostId: string): string {
  keys.host(envId, hostId); // validates both ids
  return hostUsernamePrefix(keys, envId) + hostId;
}

/** Everything after `ACL SETUSER <username>`. The password goes in as its SHA-256 (`#`), never in clear. */
export function hostUserAclRules(keys: Keys, envId: string, hostId: string, password: string): string[] {
  const host = keys.host(envId, hostId);
  const env = keys.env(envId);
  const passwordSha256 = createHash("sha256").update(password, "utf8").digest("hex");
  return [
    "reset", "on", `#${passwordSha256}`,
    "resetkeys",
    `%R~${host.desired}`, `%R~${host.nudges}`, `%R~${env.dns}`,
    `~${host.observed}`, `~${host.reports}`, `~${host.heartbeat}`, `~${host.stats}`,
    "resetchannels",
    "-@all", ...hostAgentCommands.map((command) => `+${command}`),
  ];
}

/** Shortest password accepted: agents get generated secrets, never memorable ones. */
export const minHostPasswordLength = 16;

/** Creates the host's user, or resets an existing one to exactly these rules and password. */
export async function provisionHostUser(
  redis: Redis, keys: Keys, envId: string, hostId: string, password: string,
): Promise<{ username: string }> {
  if (typeof password !== "string" || password.length < minHostPasswordLength) {
    throw new DroverError("InvalidField", `host password must have at least ${minHostPasswordLength} characters`, { field: "password" });
  }
  const username = hostUsername(keys, envId, hostId);
  const rules = hostUserAclRules(keys, envId, hostId, password);
  await withRedis(() => redis.call("ACL", "SETUSER", username, ...rules));
  return { username };
}

export async function removeHostUser(redis: Redis, keys: Keys, envId: string, hostId: string): Promise<void> {
  const username = hostUsername(keys, envId, hostId);
  await withRedis(() => redis.call("ACL", "DELUSER", username));
}
