import type { RedisOptions } from "ioredis";
import type { AgentRedisCredentials } from "./agent-protocol";
import { parseRedisUrl, redisTargetOptions } from "./redis-target";

/**
 * ioredis options for an agent logging in as its host's ACL user (runtime/store/host-acl.ts).
 * The user may run only the agent's commands, so the client must not send others on connect:
 * no INFO ready check, no CLIENT SETINFO, no SELECT (the URL must name db 0 or none).
 * With a Sentinel URL the agent asks the sentinels (without credentials) where the primary is,
 * and again after a failover.
 * Commands fail at once while disconnected (no offline queue): the agent then works from the
 * last desired state it saw instead of waiting, and ioredis reconnects in the background.
 */
export function agentRedisOptions(creds: AgentRedisCredentials, connectionName: string, extra: RedisOptions = {}): RedisOptions {
  const target = parseRedisUrl(creds.url, "redis.url");
  // rediss:// (and rediss+sentinel://): verify Redis's certificate against the CA (never the
  // system's roots alone) and present the host's client certificate, whose key never leaves the host.
  const tls = target.tls
    ? { ...(creds.ca ? { ca: creds.ca } : {}), ...(creds.clientCert && creds.clientKey ? { cert: creds.clientCert, key: creds.clientKey } : {}), minVersion: "TLSv1.2" as const }
    : undefined;
  return {
    ...redisTargetOptions(target, tls),
    username: creds.username,
    password: creds.password,
    connectionName,
    // INFO and CLIENT SETINFO are not granted to an agent user.
    enableReadyCheck: false,
    disableClientInfo: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    connectTimeout: 5_000,
    // A Redis that stops answering (partition) must not hang a reconcile: fail and use the last state.
    commandTimeout: 5_000,
    keepAlive: 10_000,
    // Reconnect forever, at most every 2 s: a Redis outage must only pause the agent.
    retryStrategy: (times) => Math.min(100 * times, 2_000),
    ...extra,
  };
}
