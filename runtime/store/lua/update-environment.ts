import type { LuaScript } from "../scripts";
import { decodeObjectLua, withFieldLua } from "./common";

/**
 * updateEnvironment in three one-slot steps (environment-writes.ts): the environment's rev
 * is taken, the record in the global environments hash is compared-and-set carrying it, then
 * the events announce it.
 */
export const takeEnvironmentRevScript: LuaScript = {
  name: "droverTakeEnvironmentRev",
  lua: `
-- takeEnvironmentRev: the environment's next rev, for a record about to be written elsewhere.
-- A rev taken by an update that then loses its compare-and-set stays unused: revs only
-- need to grow.
--
-- KEYS[1] env rev
-- Returns {'OK', rev} | {'NO_ENV'}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NO_ENV'} end
return {'OK', redis.call('INCR', KEYS[1])}
`,
};

export const setEnvironmentRecordScript: LuaScript = {
  name: "droverSetEnvironmentRecord",
  lua: `
-- setEnvironmentRecord: compare-and-set of one environment record on the record's own rev
-- (not the env rev, which every record write bumps), so a concurrent update is detected
-- without spurious failures.
--
-- KEYS[1] environments (global hash)
-- ARGV[1] envId   ARGV[2] the record's rev as read   ARGV[3] new record JSON (without rev)
-- ARGV[4] the new rev (from takeEnvironmentRev)
--
-- Returns {'OK', rev} | {'NO_ENV'} | {'STALE'} (the record changed since it was read)
${withFieldLua}${decodeObjectLua}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return {'NO_ENV'} end
local current = decodeObject(raw)
if not current or tostring(current.rev) ~= ARGV[2] then return {'STALE'} end
local rev = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], ARGV[1], withField(ARGV[3], 'rev', rev))
return {'OK', rev}
`,
};

export const environmentChangedScript: LuaScript = {
  name: "droverEnvironmentChanged",
  lua: `
-- environmentChanged: the 'environment updated' event and a nudge to the reconciler, after
-- the record was written.
--
-- KEYS[1] env events   KEYS[2] env reconcile stream
-- ARGV[1] envId   ARGV[2] rev
-- Returns {'OK'}
redis.call('XADD', KEYS[1], 'MAXLEN', '~', '10000', '*',
  'type', 'environment', 'action', 'updated', 'id', ARGV[1], 'rev', ARGV[2])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', '1000', '*', 'type', 'write', 'rev', ARGV[2])
return {'OK'}
`,
};
