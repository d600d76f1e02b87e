import type { LuaScript } from "../scripts";

/**
 * The global index hashes (apiKeys, registrationTokens) map a hash to its environment. Each
 * is one key with no hash tag, so on Redis Cluster it sits in its own slot: these scripts
 * touch that one hash only, and the environment's own keys are written by separate scripts
 * (environment-writes.ts says in which order and what repairs a half-done write).
 */
export const claimIndexEntryScript: LuaScript = {
  name: "droverClaimIndexEntry",
  lua: `
-- claimIndexEntry: field -> envId in one global index hash, unless another environment holds it.
--
-- KEYS[1] a global index hash (apiKeys or registrationTokens)
-- ARGV[1] field (a key or token hash)   ARGV[2] envId
--
-- Returns {'OK'} (claimed now, or already this environment's) | {'TAKEN'}
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner and owner ~= ARGV[2] then return {'TAKEN'} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {'OK'}
`,
};

export const dropIndexEntriesScript: LuaScript = {
  name: "droverDropIndexEntries",
  lua: `
-- dropIndexEntries: removes fields of one global hash, only where they still point at envId
-- (a field another environment claimed meanwhile stays).
--
-- KEYS[1] a global hash (environments, apiKeys or registrationTokens)
-- ARGV[1] envId   ARGV[2..] fields
--
-- Returns {'OK', removed}
local removed = 0
for i = 2, #ARGV do
  local owner = redis.call('HGET', KEYS[1], ARGV[i])
  if owner == ARGV[1] then removed = removed + redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return {'OK', removed}
`,
};
