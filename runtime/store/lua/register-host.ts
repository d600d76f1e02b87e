import type { LuaScript } from "../scripts";
import { decodeObjectLua, withFieldLua, writeRunLua } from "./common";

/**
 * One host registration (RedisStore.registerHost): a put of one host record that reads only
 * what it touches (the machine index, the host's own record, the name index), never the
 * whole environment, so a thousand hosts registering at once do not redo each other's work.
 */
export const registerHostScript: LuaScript = {
  name: "droverRegisterHost",
  lua: `
-- registerHost: creates or updates the host record of one machine, compare-and-set on what
-- the caller read (the machine's host id and that record's rev), with the name index kept.
--
-- KEYS[1] env rev   KEYS[2] env events stream   KEYS[3] env reconcile stream
-- KEYS[4] hosts hash   KEYS[5] hostNames index   KEYS[6] hostMachines index (machineId -> hostId)
-- KEYS[7] creationRun, KEYS[8] recordsKeptRun (keys.ts): a new machine's host is a
--         creation-only write, which keeps every record too
-- ARGV[1] machineId   ARGV[2] expected host id of that machine, or '' (a new machine)
-- ARGV[3] expected rev of that host record, or ''   ARGV[4] host record JSON (without rev)
--
-- The machine index is built from the hosts hash the first time it is missing while hosts
-- exist (data written before the index existed); lua/write.ts keeps it for other host writes.
-- An index entry whose record is gone or names another machine counts as absent.
--
-- Returns {'OK', rev} | {'NO_ENV'} | {'STALE'} | {'CONFLICT', 'host', name, holderId}
--       | {'BAD_RECORD', 'host', id, reason}
${withFieldLua}${decodeObjectLua}${writeRunLua}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NO_ENV'} end
local machineId, expectedId, expectedRev, body = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local record = decodeObject(body)
if not record or type(record.id) ~= 'string' then return {'BAD_RECORD', 'host', '', 'not a JSON object with an id'} end
if record.rev ~= nil then return {'BAD_RECORD', 'host', record.id, 'rev is set by the script'} end
if record.machineId ~= machineId then return {'BAD_RECORD', 'host', record.id, 'machineId does not match'} end

if redis.call('EXISTS', KEYS[6]) == 0 and redis.call('HLEN', KEYS[4]) > 0 then
  for _, raw in ipairs(redis.call('HVALS', KEYS[4])) do
    local h = decodeObject(raw)
    if h and type(h.machineId) == 'string' and type(h.id) == 'string' then redis.call('HSET', KEYS[6], h.machineId, h.id) end
  end
end

local currentId, current = '', nil
local indexed = redis.call('HGET', KEYS[6], machineId)
if indexed then
  local raw = redis.call('HGET', KEYS[4], indexed)
  local h = raw and decodeObject(raw)
  if h and h.machineId == machineId then currentId, current = indexed, h end
end
if currentId ~= expectedId then return {'STALE'} end
if current and tostring(current.rev) ~= expectedRev then return {'STALE'} end
if current and record.id ~= currentId then return {'BAD_RECORD', 'host', record.id, 'id does not match the machine'} end
if not current and redis.call('HEXISTS', KEYS[4], record.id) == 1 then return {'BAD_RECORD', 'host', record.id, 'id already taken'} end

local oldName = current and current.state ~= 'removed' and current.name or nil
local newName = record.state ~= 'removed' and record.name or nil
if type(newName) ~= 'string' then return {'BAD_RECORD', 'host', record.id, 'no name'} end
if newName ~= oldName then
  local holder = redis.call('HGET', KEYS[5], newName)
  if holder and holder ~= record.id then return {'CONFLICT', 'host', newName, holder} end
end

local rev = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[4], record.id, withField(body, 'rev', rev))
if oldName and oldName ~= newName and redis.call('HGET', KEYS[5], oldName) == record.id then redis.call('HDEL', KEYS[5], oldName) end
redis.call('HSET', KEYS[5], newName, record.id)
redis.call('HSET', KEYS[6], machineId, record.id)
if not current then
  noteInRun(KEYS[7], rev)
  noteInRun(KEYS[8], rev)
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', '10000', '*',
  'type', 'host', 'action', current and 'updated' or 'created', 'id', record.id, 'rev', rev)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', '1000', '*', 'type', 'write', 'rev', rev)
return {'OK', rev}
`,
};
