import type { RedisOptions } from "ioredis";
import type { AgentRedisCredentials } from "../protocol/agent-protocol";
import { agentRedisOptions } from "../protocol/agent-redis-options";

/** The agent's own ioredis options (runtime/protocol/agent-redis-options.ts), for tests and benchmarks acting as agents. */
export function hostAgentRedisOptions(redis: AgentRedisCredentials, extra: RedisOptions = {}): RedisOptions {
  return agentRedisOptions(redis, extra.connectionName ?? redis.username, { lazyConnect: false, enableOfflineQueue: true, commandTimeout: undefined, ...extra });
}
