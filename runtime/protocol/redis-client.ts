import Redis, { Cluster, type ClusterOptions, type RedisOptions } from "ioredis";
import { parseRedisUrl, type RedisTarget } from "./redis-target";

/**
 * The ioredis client for a target: `Redis` for one Redis or Sentinel, `Cluster` for a
 * `redis+cluster://` URL. A Cluster is handed on typed as `Redis`: it answers the same
 * commands (routing each by its key's slot), and drover only sends it commands whose keys
 * share one slot (test/runtime/store/one-slot.test.ts). The few places that must act
 * differently (SCAN every primary, an XREAD per slot, ACL users on every node) ask
 * `isCluster(redis)`.
 *
 * `options` are those of one connection (redisTargetOptions plus the caller's). For a Cluster
 * the client-wide ones among them (lazy connect, offline queue, ready check, auto-pipelining,
 * retry strategy) move to the Cluster's own options.
 */
export function createRedisClient(target: RedisTarget, options: RedisOptions, cluster: { scriptNames?: string[] } = {}): Redis {
  if (!target.cluster) return new Redis(options);
  const client = new Cluster(target.cluster.nodes, {
    ...clusterOptions(options),
    // ioredis's auto-pipelining groups a defined script by the slot of its first argument (the
    // key count, not a key: ioredis 5.11.1), so a script can land in a pipeline of another
    // node and fail ("All keys in the pipeline should belong to the same slots allocation
    // group"). Scripts are sent on their own; everything else still auto-pipelines.
    ...(cluster.scriptNames ? { autoPipeliningIgnoredCommands: cluster.scriptNames } : {}),
    // rediss+cluster:// with host names: ioredis resolves the seed nodes' names to addresses
    // before its first CLUSTER SLOTS, so TLS would check the certificate against an IP address
    // the certificate need not name ("Failed to refresh slots cache"). Names are kept, and
    // checked as for one Redis; nodes announcing names (cluster-announce-hostname,
    // cluster-preferred-endpoint-type hostname) are reached by name too.
    ...(target.tls ? { dnsLookup: (address: string, callback: (err: Error | null, address: string) => void) => callback(null, address) } : {}),
  });
  client.on("ready", () => dropReplicaConnections(client));
  return client as unknown as Redis;
}

/**
 * Reads and writes go to primaries only (scaleReads "master"), yet ioredis 5.11.1 connects to
 * every seed node of the URL that CLUSTER SLOTS shows is a replica, only to send it READONLY
 * (ConnectionPool.findOrCreate switching the seed's role), and keeps that connection idle for
 * the client's life; an agent's ACL user is not even granted READONLY. With 5,000 agents (two
 * clients each) that was thousands of idle connections per replica. They are closed once the
 * client is ready: the pool forgets them, and the replicas it learns again on a refresh are
 * created as replicas, unconnected until used (never, with scaleReads "master").
 */
function dropReplicaConnections(cluster: Cluster): void {
  for (const node of cluster.nodes("slave")) if (node.status !== "wait") node.disconnect();
}

/** createRedisClient from a URL (agents, which know their URL and options). */
export function createRedisClientForUrl(url: string, field: string, options: RedisOptions): Redis {
  return createRedisClient(parseRedisUrl(url, field), options);
}

export function isCluster(redis: Redis): boolean {
  return redis.isCluster;
}

/** For a duplicate that sends blocking reads (XREAD BLOCK): their BLOCK is their bound, the client's commandTimeout must not cut it. */
export const NO_COMMAND_TIMEOUT = { commandTimeout: undefined } as const;

/** Another client to the same Redis with changed options (a blocking reader's own connections). */
export function duplicateClient(redis: Redis, override: RedisOptions): Redis {
  if (!isCluster(redis)) return redis.duplicate(override);
  const cluster = redis as unknown as Cluster;
  const patch = clusterOptions(override);
  const copy = cluster.duplicate([], { ...patch, redisOptions: { ...cluster.options.redisOptions, ...patch.redisOptions } });
  copy.on("ready", () => dropReplicaConnections(copy));
  return copy as unknown as Redis;
}

function clusterOptions(options: RedisOptions): ClusterOptions {
  const { lazyConnect, enableOfflineQueue, enableReadyCheck, enableAutoPipelining, retryStrategy, ...perNode } = options;
  return {
    // enableReadyCheck stays a node option too: the Cluster's own check is CLUSTER INFO, each
    // node connection's is INFO, which an agent's ACL user may not run either (ioredis would
    // print "Skipping the ready check ... NOPERM" for every node connection of every agent).
    redisOptions: { ...perNode, ...(enableReadyCheck !== undefined ? { enableReadyCheck } : {}) },
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    ...(enableReadyCheck !== undefined ? { enableReadyCheck } : {}),
    ...(enableAutoPipelining !== undefined ? { enableAutoPipelining } : {}),
    ...(retryStrategy ? { clusterRetryStrategy: (times: number) => retryStrategy(times) ?? null } : {}),
    // A failover or a slot moving: retry soon, with the slots map refreshed, rather than fail
    // the command (ioredis waits retryDelayOnFailover and follows MOVED/ASK on its own).
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    maxRedirections: 16,
    slotsRefreshTimeout: 2000,
  };
}
