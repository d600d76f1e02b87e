import Redis from "ioredis";
import { startApiServer } from "../api";
import { ReconcileManager } from "../reconcile/manager";
import { makeKeys } from "../protocol/keys";
import { LeaderLease } from "../store/leader-lease";
import { RedisStore } from "../store/redis-store";
import { Keyring } from "../secrets/keyring";
import { loadOrCreateMasterKey } from "../secrets/master-key";
import type { ServerConfig } from "./config";
import { makeLogger, type Logger } from "./log";

export interface RunningServer {
  url: string;
  manager: ReconcileManager;
  close(): Promise<void>;
}

/**
 * drover's server: the HTTP API and the reconcilers of the environments this server leads,
 * sharing one Redis. It keeps no state of its own, so several can run against one Redis.
 */
export async function startServer(config: ServerConfig, log: Logger = makeLogger(`server[${config.serverId}]`)): Promise<RunningServer> {
  const keys = makeKeys(config.keyPrefix);
  // Fail fast when Redis is down (Unavailable), never queue commands behind a dead link.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, connectionName: `drover-${config.serverId}` });
  const blocking = redis.duplicate({ connectionName: `drover-${config.serverId}-watch` });
  const keyring = new Keyring(redis, keys, loadOrCreateMasterKey(config.masterKeyFile));
  const store = new RedisStore(redis, keys, { keyring });
  const manager = new ReconcileManager({
    store,
    lease: new LeaderLease(redis, keys),
    redis,
    blockingRedis: blocking,
    keys,
    serverId: config.serverId,
    graceMs: config.disconnectGraceMs,
    tickMs: config.tickMs,
    leaseTtlMs: config.leaseTtlMs,
    log,
  });
  const api = await startApiServer({
    store,
    keyring,
    adminKey: config.adminKey,
    registration: {
      redisUrl: config.agentRedisUrl,
      keyPrefix: config.keyPrefix,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      heartbeatTtlMs: config.heartbeatTtlMs,
      resyncIntervalMs: config.resyncIntervalMs,
    },
    log: (message, err) => log(message, { error: err instanceof Error ? err.message : String(err ?? "") }),
  }, { host: config.listenHost, port: config.listenPort });
  manager.start();
  log("server ready", { url: api.url, redis: config.agentRedisUrl, keyPrefix: config.keyPrefix });
  return {
    url: api.url,
    manager,
    async close() {
      await api.close();
      await manager.stop();
      redis.disconnect();
    },
  };
}
