import type { Cluster } from "ioredis";
import { startApiServer } from "../api";
import { ReconcileManager } from "../reconcile/manager";
import { makeKeys } from "../protocol/keys";
import { attachStatsSocket } from "../dashboard/stats-socket";
import { LeaderLease } from "../store/leader-lease";
import { RedisStore } from "../store/redis-store";
import { HostAclReplicas } from "../store/host-acl-replicas";
import { hostUsernamePrefix } from "../store/host-acl";
import { parseRedisUrl, redisTargetOptions } from "../protocol/redis-target";
import { SplitWriteRepair } from "../store/split-write-repair";
import { allScripts } from "../store/lua/all";
import { ClusterHostAcl } from "../store/cluster-host-acl";
import { AclSyncTurn } from "../store/acl-sync-turn";
import { createRedisClient, duplicateClient, NO_COMMAND_TIMEOUT } from "../protocol/redis-client";
import { isLoopback } from "../protocol/loopback";
import { reviveWhenEnded } from "../protocol/redis-revive";
import { Keyring } from "../secrets/keyring";
import { loadOrCreateMasterKey } from "../secrets/master-key";
import type { ServerConfig } from "./config";
import { createLogger, type Logger } from "../protocol/log";

export interface RunningServer {
  url: string;
  manager: ReconcileManager;
  /** Stops in order; `onStep` hears each step as it begins, so a stop that hangs can say where. */
  close(onStep?: (step: string) => void): Promise<void>;
}

/**
 * drover's server: the HTTP API and the reconcilers of the environments this server leads,
 * sharing one Redis. It keeps no state of its own, so several can run against one Redis.
 */
export async function startServer(config: ServerConfig, log: Logger = createLogger((line) => process.stderr.write(line + "\n"), undefined, { component: `server[${config.serverId}]` })): Promise<RunningServer> {
  const keys = makeKeys(config.keyPrefix);
  const target = parseRedisUrl(config.redisUrl, "--redis");
  const redisTls = target.tls;
  const agentRedisTls = parseRedisUrl(config.agentRedisUrl, "--agent-redis").tls;
  // The CA is loaded (made the first time) only when some hop uses TLS: plain loopback setups keep no CA.
  // Required here, not imported: node-forge costs ~35 ms of loading that plain servers need not pay.
  const tls = config.apiTls || redisTls || agentRedisTls ? await (require("../tls/server-tls") as typeof import("../tls/server-tls")).serverTls({
    tlsDir: config.tlsDir, apiTls: config.apiTls, apiCertFile: config.apiCertFile, apiKeyFile: config.apiKeyFile,
    apiNames: config.apiNames, listenHost: config.listenHost, redisTls,
  }) : undefined;
  // Fail fast when Redis is down (Unavailable), never queue commands behind a dead link.
  // rediss://: Redis's certificate checked against drover's CA, the server's own client certificate presented.
  const redisTlsOptions = tls?.redisClient ? { ca: tls.ca.cert, cert: tls.redisClient.cert, key: tls.redisClient.key, minVersion: "TLSv1.2" as const } : undefined;
  const redis = createRedisClient(target, {
    ...redisTargetOptions(target, redisTlsOptions),
    // Sentinel: subscribed to +switch-master, the server leaves a demoted primary as soon as the
    // switch is announced, not when the old primary is reconfigured (seconds later after a
    // manual failover, while it would still take writes bound to be overwritten). Not for
    // agents: each would hold a connection to every sentinel, and with it 15% of 200 simulated
    // agents missed the new primary for over 15 s after a kill (bench failover).
    ...(target.sentinel ? { failoverDetector: true } : {}),
    maxRetriesPerRequest: 1, connectionName: `drover-${config.serverId}`,
    // No API request or pass waits on Redis for ever: a command in flight when a connection
    // drops can be left unanswered by ioredis (a MULTI or pipeline cut mid-reply is never sent
    // again: redis/ioredis#800), and an API write held on one would never be answered (the likely
    // cause of the TLS failover test's one timeout in CI, stop 26: a hung writer). Past the bound
    // it fails as Unavailable (retryable). Connections for blocking reads drop it (NO_COMMAND_TIMEOUT):
    // BLOCK bounds those.
    commandTimeout: config.redisCommandTimeoutMs,
    // Commands issued in the same tick (a pass's per-host GETs, concurrent registrations) go
    // out in one socket write: one syscall each was most of the server's CPU at 1,000 hosts.
    enableAutoPipelining: true,
  }, { scriptNames: allScripts.map((script) => script.name) });
  const blocking = duplicateClient(redis, { connectionName: `drover-${config.serverId}-watch`, enableAutoPipelining: false, ...NO_COMMAND_TIMEOUT });
  // WAIT on a connection of its own: a slow one would hold every command behind it (replica-wait.ts).
  const waiter = target.sentinel ? redis.duplicate({ connectionName: `drover-${config.serverId}-wait`, enableAutoPipelining: false }) : undefined;
  let closing = false;
  for (const [client, name] of [[redis, "main"], [blocking, "watch"], ...(waiter ? [[waiter, "wait"] as const] : [])] as const) {
    reviveWhenEnded(client, { name, closing: () => closing, log: (message, fields) => log.warn(message, fields) });
  }
  const keyring = new Keyring(redis, keys, loadOrCreateMasterKey(config.masterKeyFile));
  // Sentinel (replicas): host users on every node, and writes acknowledged only once a replica has them.
  const aclLog = (message: string, err?: unknown) => log.warn(message, { error: err instanceof Error ? err.message : String(err ?? "") });
  // Redis Cluster: host users on every primary and replica (cluster-host-acl.ts).
  // The periodic sync runs on one of the servers each interval (acl-sync-turn.ts).
  const aclTurn = new AclSyncTurn(redis, keys.aclSyncTurn(), config.serverId);
  const aclReplicas = target.sentinel
    ? new HostAclReplicas(redis, { ...redisTargetOptions({ ...target, sentinel: undefined }, redisTlsOptions) }, hostUsernamePrefix(keys), aclLog, undefined, aclTurn)
    : target.cluster
      ? new ClusterHostAcl(redis as unknown as Cluster, redisTargetOptions({ ...target, cluster: undefined }, redisTlsOptions), hostUsernamePrefix(keys), aclLog, undefined, aclTurn)
      : undefined;
  const store = new RedisStore(redis, keys, {
    keyring, aclReplicas,
    // Redis Cluster: WAIT on each primary's own connection (cluster-wait.ts).
    ...(target.sentinel ? { waitReplicas: { count: config.redisWaitReplicas, timeoutMs: 1000, connection: waiter } } : {}),
    ...(target.cluster ? { waitReplicas: { count: config.redisWaitReplicas, timeoutMs: 1000 } } : {}),
  });
  const manager = new ReconcileManager({
    store,
    lease: new LeaderLease(redis, keys),
    redis,
    blockingRedis: blocking,
    keys,
    serverId: config.serverId,
    graceMs: config.disconnectGraceMs,
    heartbeat: { base: { intervalMs: config.heartbeatIntervalMs, ttlMs: config.heartbeatTtlMs }, beatsPerSecond: config.heartbeatsPerSecond },
    tickMs: config.tickMs,
    leaseTtlMs: config.leaseTtlMs,
    log: (msg, fields) => log.info(msg, fields),
  });
  const api = await startApiServer({
    store,
    keyring,
    ...(tls ? {
      tls: {
        caCert: tls.ca.cert,
        caFingerprint: tls.ca.fingerprint,
        ...(agentRedisTls ? { hostClientCert: tls.hostClientCert } : {}),
      },
    } : {}),
    adminKey: config.adminKey,
    ...(config.advertiseUrl ? { streamsUrl: config.advertiseUrl } : {}),
    registration: {
      redisUrl: config.agentRedisUrl,
      keyPrefix: config.keyPrefix,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      heartbeatTtlMs: config.heartbeatTtlMs,
      resyncIntervalMs: config.resyncIntervalMs,
    },
    log: (message, err) => log.error(message, { error: err instanceof Error ? err.message : String(err ?? "") }),
  }, { host: config.listenHost, port: config.listenPort }, tls?.api);
  const stats = attachStatsSocket(api.httpServer, {
    adminKey: config.adminKey, store, keys, redis,
    log: (message, err) => log.warn(message, { error: err instanceof Error ? err.message : String(err ?? "") }),
  });
  // Writes split into one-slot steps (environment-writes.ts) that stopped half-way are finished or undone.
  const repair = new SplitWriteRepair(redis, keys, (envId) => store.purgeEnvironment(envId), (msg, fields) => log.warn(msg, fields));
  manager.start();
  aclReplicas?.start();
  repair.start();
  log.info("server ready", {
    url: api.url, redis: config.agentRedisUrl, keyPrefix: config.keyPrefix,
    // Not secret: what agents (--ca-fingerprint) and the provider (drover:caFingerprint) pin.
    ...(tls ? { caFingerprint: tls.ca.fingerprint } : {}),
  });
  if (!tls && !isLoopback(config.listenHost)) {
    log.warn("the API listens beyond loopback in plain HTTP: registration tokens and API keys cross the network in the clear (--api-tls on)");
  }
  return {
    url: api.url,
    manager,
    async close(onStep = () => undefined) {
      closing = true;
      onStep("the stats socket");
      stats.close();
      onStep("the API (its open streams and connections)");
      await api.close();
      onStep("the reconcile manager (its passes and blocking reads)");
      await manager.stop();
      onStep("the split-write repair");
      await repair.stop();
      onStep("the ACL replica sync");
      await aclReplicas?.stop();
      onStep("the Redis connections");
      waiter?.disconnect();
      redis.disconnect();
    },
  };
}
