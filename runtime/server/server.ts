import Redis from "ioredis";
import { startApiServer } from "../api";
import { ReconcileManager } from "../reconcile/manager";
import { makeKeys } from "../protocol/keys";
import { attachStatsSocket } from "../dashboard/stats-socket";
import { LeaderLease } from "../store/leader-lease";
import { RedisStore } from "../store/redis-store";
import { isLoopback } from "../protocol/loopback";
import { Keyring } from "../secrets/keyring";
import { loadOrCreateMasterKey } from "../secrets/master-key";
import type { ServerConfig } from "./config";
import { createLogger, type Logger } from "../protocol/log";

export interface RunningServer {
  url: string;
  manager: ReconcileManager;
  close(): Promise<void>;
}

/**
 * drover's server: the HTTP API and the reconcilers of the environments this server leads,
 * sharing one Redis. It keeps no state of its own, so several can run against one Redis.
 */
export async function startServer(config: ServerConfig, log: Logger = createLogger((line) => process.stderr.write(line + "\n"), undefined, { component: `server[${config.serverId}]` })): Promise<RunningServer> {
  const keys = makeKeys(config.keyPrefix);
  const redisTls = config.redisUrl.startsWith("rediss:");
  const agentRedisTls = config.agentRedisUrl.startsWith("rediss:");
  // The CA is loaded (made the first time) only when some hop uses TLS: plain loopback setups keep no CA.
  // Required here, not imported: node-forge costs ~35 ms of loading that plain servers need not pay.
  const tls = config.apiTls || redisTls || agentRedisTls ? await (require("../tls/server-tls") as typeof import("../tls/server-tls")).serverTls({
    tlsDir: config.tlsDir, apiTls: config.apiTls, apiCertFile: config.apiCertFile, apiKeyFile: config.apiKeyFile,
    apiNames: config.apiNames, listenHost: config.listenHost, redisTls,
  }) : undefined;
  // Fail fast when Redis is down (Unavailable), never queue commands behind a dead link.
  // rediss://: Redis's certificate checked against drover's CA, the server's own client certificate presented.
  const redis = new Redis(config.redisUrl, {
    maxRetriesPerRequest: 1, connectionName: `drover-${config.serverId}`,
    ...(tls?.redisClient ? { tls: { ca: tls.ca.cert, cert: tls.redisClient.cert, key: tls.redisClient.key, minVersion: "TLSv1.2" as const } } : {}),
  });
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
  manager.start();
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
    async close() {
      stats.close();
      await api.close();
      await manager.stop();
      redis.disconnect();
    },
  };
}
