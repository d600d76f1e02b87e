import type { LuaScript } from "../scripts";

/** Adds a registration token to an environment (RedisStore.addRegistrationToken). */
export const addRegistrationTokenScript: LuaScript = {
  name: "droverAddRegistrationToken",
  lua: `
-- addRegistrationToken: token hash -> envId in the global index and -> metadata in the
-- environment's tokens hash, together.
--
-- KEYS[1] registrationTokens (global hash)   KEYS[2] env rev   KEYS[3] env tokens hash
-- ARGV[1] envId   ARGV[2] token hash   ARGV[3] token metadata JSON
--
-- Returns {'OK'} | {'NO_ENV'} | {'TOKEN_TAKEN'} (the hash belongs to another environment)
--
-- KEYS[1] is global (see createEnvironment for the Redis Cluster note).
if redis.call('EXISTS', KEYS[2]) == 0 then return {'NO_ENV'} end
local owner = redis.call('HGET', KEYS[1], ARGV[2])
if owner and owner ~= ARGV[1] then return {'TOKEN_TAKEN'} end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
return {'OK'}
`,
};
