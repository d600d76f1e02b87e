import type { LuaScript } from "../scripts";

/** The environment's own half of createEnvironment (RedisStore.createEnvironment, environment-writes.ts). */
export const createEnvironmentScript: LuaScript = {
  name: "droverCreateEnvironment",
  lua: `
-- createEnvironment, per-environment half: the rev (starting at 1, the record's rev), the
-- first API key's and registration token's metadata, the 'created' event. Runs after the
-- global half (index claims, then the record in the environments hash), so it is also how a
-- half-created environment is finished (split-write-repair.ts): idempotent for the same key.
--
-- KEYS[1] env rev   KEYS[2] env keys hash   KEYS[3] env tokens hash   KEYS[4] env events
-- ARGV[1] envId   ARGV[2] API key hash   ARGV[3] registration token hash
-- ARGV[4] API key metadata JSON   ARGV[5] token metadata JSON
--
-- Returns {'OK', rev} (created now, or already created with this API key) | {'ENV_EXISTS'}
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return {'OK', 1} end
  return {'ENV_EXISTS'}
end
local rev = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '10000', '*',
  'type', 'environment', 'action', 'created', 'id', ARGV[1], 'rev', rev)
return {'OK', rev}
`,
};
