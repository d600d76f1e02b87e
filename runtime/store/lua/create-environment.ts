import type { LuaScript } from "../scripts";
import { withFieldLua } from "./common";

/** Creates an environment with its first API key and registration token (RedisStore.createEnvironment). */
export const createEnvironmentScript: LuaScript = {
  name: "droverCreateEnvironment",
  lua: `
-- createEnvironment: the environment record, its first API key and registration token,
-- all or nothing. The env rev starts at 1 and is the record's rev.
--
-- KEYS[1] environments (global hash)   KEYS[2] apiKeys (global hash)
-- KEYS[3] registrationTokens (global hash)
-- KEYS[4] env rev   KEYS[5] env keys hash   KEYS[6] env tokens hash   KEYS[7] env events
-- ARGV[1] envId   ARGV[2] environment record JSON (an object without rev)
-- ARGV[3] API key hash   ARGV[4] registration token hash
-- ARGV[5] API key metadata JSON   ARGV[6] token metadata JSON
--
-- Returns {'OK', rev} | {'ENV_EXISTS'} | {'API_KEY_TAKEN'} | {'TOKEN_TAKEN'}
--
-- KEYS[1..3] are global and not in the environment's hash-tag slot: fine on one Redis.
-- On Redis Cluster the global index writes would move to a separate step (written after
-- this script, read as "not yet visible" until then); the per-env writes stay here.
${withFieldLua}
local envId = ARGV[1]
if redis.call('HEXISTS', KEYS[1], envId) == 1 or redis.call('EXISTS', KEYS[4]) == 1 then
  return {'ENV_EXISTS'}
end
if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then return {'API_KEY_TAKEN'} end
if redis.call('HEXISTS', KEYS[3], ARGV[4]) == 1 then return {'TOKEN_TAKEN'} end

local rev = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[1], envId, withField(ARGV[2], 'rev', rev))
redis.call('HSET', KEYS[2], ARGV[3], envId)
redis.call('HSET', KEYS[3], ARGV[4], envId)
redis.call('HSET', KEYS[5], ARGV[3], ARGV[5])
redis.call('HSET', KEYS[6], ARGV[4], ARGV[6])
redis.call('XADD', KEYS[7], 'MAXLEN', '~', '10000', '*',
  'type', 'environment', 'action', 'created', 'id', envId, 'rev', rev)
return {'OK', rev}
`,
};
