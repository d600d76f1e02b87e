import type { RedisOptions } from "ioredis";
import type { RegisterResponse } from "../protocol/agent-protocol";

/**
 * ioredis options for an agent logging in as its host's ACL user (see host-acl.ts). The
 * user may run only the agent's commands, so the client must not send others on connect:
 * no INFO ready check, no CLIENT SETINFO, no SELECT.
 */
export function hostAgentRedisOptions(redis: RegisterResponse["redis"], extra: RedisOptions = {}): RedisOptions {
  const url = new URL(redis.url);
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw new Error(`unsupported Redis URL ${redis.url}`);
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 6379,
    ...(url.protocol === "rediss:" ? { tls: {} } : {}),
    username: redis.username,
    password: redis.password,
    connectionName: redis.username,
    enableReadyCheck: false,
    disableClientInfo: true,
    db: 0,
    ...extra,
  };
}
