import { parseRedisUrl, redisAddresses } from "../runtime/protocol/redis-target";
import { DroverError } from "../runtime/protocol/errors";
import { isLoopback } from "../runtime/protocol/loopback";
import type { SavedIdentity, StateDir } from "./identity";

/**
 * The Redis credentials as the session uses them: the CA to check Redis's certificate (the
 * pinned one first) and the host's key for its client certificate (read from the state dir,
 * never saved with the identity).
 */
export function withTlsCredentials(identity: SavedIdentity, state: StateDir): SavedIdentity {
  const redis = identity.response.redis;
  if (!parseRedisUrl(redis.url, "redis.url").tls) return identity;
  const ca = identity.serverCa ?? redis.ca;
  return {
    ...identity,
    response: { ...identity.response, redis: { ...redis, ...(ca ? { ca } : {}), ...(redis.clientCert ? { clientKey: state.hostKey().privateKeyPem } : {}) } },
  };
}

/**
 * An agent that reached the server over TLS sends its Redis password only over TLS too: a
 * plaintext Redis URL that is not loopback is refused, whatever the server says.
 */
export function refusePlaintextRedis(serverUrl: string, redisUrl: string): void {
  if (!serverUrl.startsWith("https:")) return;
  const target = parseRedisUrl(redisUrl, "redis.url");
  if (!target.tls && !redisAddresses(target).every(isLoopback)) {
    throw new DroverError("Forbidden", `the server handed out a plaintext Redis URL (${redisUrl}) while this agent talks to it over TLS: refusing to send the Redis password in the clear (the server needs --agent-redis rediss://...)`, { retryable: false });
  }
}
