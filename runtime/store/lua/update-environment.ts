import type { LuaScript } from "../scripts";
import { decodeObjectLua, withFieldLua } from "./common";

/** Replaces an environment record if nobody changed it since it was read (RedisStore.updateEnvironment). */
export const updateEnvironmentScript: LuaScript = {
  name: "droverUpdateEnvironment",
  lua: `
-- updateEnvironment: compare-and-set of one environment record on the record's own rev
-- (not the env rev, which every record write bumps), so a concurrent update is detected
-- without spurious failures.
--
-- KEYS[1] environments (global hash)   KEYS[2] env rev   KEYS[3] env events
-- KEYS[4] env reconcile stream
-- ARGV[1] envId   ARGV[2] the record's rev as read   ARGV[3] new record JSON (without rev)
--
-- Returns {'OK', rev} | {'NO_ENV'} | {'STALE'} (the record changed since it was read)
--
-- KEYS[1] is global (see createEnvironment for the Redis Cluster note).
${withFieldLua}${decodeObjectLua}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw or redis.call('EXISTS', KEYS[2]) == 0 then return {'NO_ENV'} end
local current = decodeObject(raw)
if not current or tostring(current.rev) ~= ARGV[2] then return {'STALE'} end

local rev = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], ARGV[1], withField(ARGV[3], 'rev', rev))
redis.call('XADD', KEYS[3], 'MAXLEN', '~', '10000', '*',
  'type', 'environment', 'action', 'updated', 'id', ARGV[1], 'rev', rev)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '1000', '*', 'type', 'write', 'rev', rev)
return {'OK', rev}
`,
};
