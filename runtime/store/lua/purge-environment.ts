import type { LuaScript } from "../scripts";

/** Deletes every key of an environment (RedisStore.purgeEnvironment; the global entries go separately). */
export const purgeEnvironmentScript: LuaScript = {
  name: "droverPurgeEnvironment",
  lua: `
-- purgeEnvironment, per-environment half: deletes all of the environment's keys, named by
-- the caller from keys.ts (never found by SCAN/KEYS). Its global index entries were dropped
-- before, and its record in the environments hash goes after (environment-writes.ts).
--
-- KEYS[1] env hosts hash   KEYS[1..] every key to delete: all env keys, then the host keys
-- of each host in ARGV[1..]
-- ARGV[1..] the ids in the hosts hash, as the caller read them
--
-- Returns {'OK', deletedKeys} | {'HOSTS_CHANGED'} (a host was added or removed since the
-- caller read the hosts hash: read again and retry)
local expected = {}
for i = 1, #ARGV do expected[ARGV[i]] = true end
local present = redis.call('HKEYS', KEYS[1])
if #present ~= #ARGV then return {'HOSTS_CHANGED'} end
for _, hostId in ipairs(present) do
  if not expected[hostId] then return {'HOSTS_CHANGED'} end
end
local deleted = 0
for i = 1, #KEYS do deleted = deleted + redis.call('DEL', KEYS[i]) end
return {'OK', deleted}
`,
};
