import type { LuaScript } from "../scripts";

/** Deletes every key of an environment and its global index entries (RedisStore.purgeEnvironment). */
export const purgeEnvironmentScript: LuaScript = {
  name: "droverPurgeEnvironment",
  lua: `
-- purgeEnvironment: deletes all of the environment's keys, named by the caller from
-- keys.ts (never found by SCAN/KEYS), and its entries in the global hashes.
--
-- KEYS[1] environments (global)   KEYS[2] apiKeys (global)   KEYS[3] registrationTokens (global)
-- KEYS[4] env keys hash   KEYS[5] env tokens hash   KEYS[6] env hosts hash
-- KEYS[4..] every key to delete: all env keys, then the host keys of each host in ARGV[2..]
-- ARGV[1] envId   ARGV[2..] the ids in the hosts hash, as the caller read them
--
-- Returns {'OK', deletedKeys} | {'HOSTS_CHANGED'} (a host was added or removed since the
-- caller read the hosts hash: read again and retry)
--
-- KEYS[1..3] are global (see createEnvironment for the Redis Cluster note).
local envId = ARGV[1]
local expected = {}
for i = 2, #ARGV do expected[ARGV[i]] = true end
local present = redis.call('HKEYS', KEYS[6])
if #present ~= #ARGV - 1 then return {'HOSTS_CHANGED'} end
for _, hostId in ipairs(present) do
  if not expected[hostId] then return {'HOSTS_CHANGED'} end
end

-- Global entries are removed only where they still point at this environment.
local function dropGlobalEntries(globalHash, envHash)
  for _, field in ipairs(redis.call('HKEYS', envHash)) do
    if redis.call('HGET', globalHash, field) == envId then redis.call('HDEL', globalHash, field) end
  end
end
dropGlobalEntries(KEYS[2], KEYS[4])
dropGlobalEntries(KEYS[3], KEYS[5])
redis.call('HDEL', KEYS[1], envId)

local deleted = 0
for i = 4, #KEYS do deleted = deleted + redis.call('DEL', KEYS[i]) end
return {'OK', deleted}
`,
};
