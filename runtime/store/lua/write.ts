import type { LuaScript } from "../scripts";
import { decodeObjectLua, fenceHeldLua, withFieldLua, writeRunLua } from "./common";

/** The generic batch write of RedisStore.write. */
export const writeScript: LuaScript = {
  name: "droverWrite",
  lua: `
-- write: puts and removes records of one environment, all or nothing.
-- Validates everything first (the script has no rollback), then applies.
--
-- KEYS[1]  env rev             KEYS[2]  env leader          KEYS[3] env events stream
-- KEYS[4]  env reconcile stream
-- KEYS[5..8]  record hashes: hosts, stacks, services, instances
-- KEYS[9..11] name indexes: hostNames, stackNames, serviceNames
-- KEYS[12] loadBalancers record hash   KEYS[13] loadBalancerNames index
-- KEYS[14] certificates record hash    KEYS[15] certificateNames index
-- KEYS[16] hostMachines index (machineId -> hostId, lua/register-host.ts)
-- KEYS[17] revokedHostKeys (identity key -> hostId): a removed host's key is revoked in the same write
-- KEYS[18] creationRun (keys.ts): the run of writes that only created records
-- KEYS[19] recordsKeptRun (keys.ts): the run of writes that changed no record but instances
-- KEYS[20..]  five keys per host remove, in ARGV order: desired, nudges, observed, reports,
--             heartbeat (deleted with the host record)
-- ARGV[1] expected env rev, or ''      ARGV[2] leader fence, or ''
-- ARGV[3] 'creations': a later rev is expected too when every write since only created records
--         (a reconcile pass: new hosts or services change nothing it decided);
--         'kept': when every write since changed no record but instances (an API update: the
--         records it read are as it read them; the leader's placements and reports go on), or ''
-- ARGV[4] P = number of puts, then P triples: kind, id, record JSON (an object without rev)
-- ARGV[5+3P] R = number of removes, then R pairs: kind, id
--
-- Name indexes: host, stack and certificate name -> id, '<stackId>/<name>' -> service or load balancer id
-- (a service and a load balancer of one stack cannot share a name either).
-- A record whose state is 'removed' (or that is deleted) releases its name.
-- A write whose changes are all creations extends the creation run (lua/common.ts); one whose
-- changes are creations or instances' updates and removals extends the records-kept run.
-- Each changed record gets rev = the new env rev and one events entry
-- (type=<kind> action=created|updated|removed id rev); one reconcile nudge per batch.
-- Removing an absent record changes nothing; a batch that changes nothing keeps the rev.
-- Instance bodies are not decoded (they hold no name; the store checked them, write-batch.ts):
-- only their outline (an object, its id, no rev at its end) is checked here. A pass writes tens
-- of thousands of them, and decoding each took most of the script's time.
--
-- Returns {'OK', rev, the rev the batch was written on} | {'NO_ENV'} | {'REV_MISMATCH', currentRev} | {'NOT_LEADER'}
--       | {'CONFLICT', kind, name, holderId} | {'BAD_RECORD', kind, id, reason}
${withFieldLua}${fenceHeldLua}${decodeObjectLua}${writeRunLua}
local currentRev = redis.call('GET', KEYS[1])
if not currentRev then return {'NO_ENV'} end
local tolerated = (ARGV[3] == 'creations' and KEYS[18]) or (ARGV[3] == 'kept' and KEYS[19]) or nil
if ARGV[1] ~= '' and ARGV[1] ~= currentRev
  and not (tolerated and runCovers(tolerated, tonumber(ARGV[1]), tonumber(currentRev))) then
  return {'REV_MISMATCH', tonumber(currentRev)}
end
if ARGV[2] ~= '' and not fenceHeld(KEYS[2], ARGV[2]) then return {'NOT_LEADER'} end

local recordHashes = { host = KEYS[5], stack = KEYS[6], service = KEYS[7], instance = KEYS[8], loadBalancer = KEYS[12], certificate = KEYS[14] }
local nameIndexes = { host = KEYS[9], stack = KEYS[10], service = KEYS[11], loadBalancer = KEYS[13], certificate = KEYS[15] }

-- What the batch has done so far, over what Redis holds: false = gone.
local pendingRecords = { host = {}, stack = {}, service = {}, instance = {}, loadBalancer = {}, certificate = {} }
local pendingNames = { host = {}, stack = {}, service = {}, loadBalancer = {}, certificate = {} }

local undecoded = { instance = true }
local sharedNames = { service = 'loadBalancer', loadBalancer = 'service' }

local function currentRecord(kind, id)
  local pending = pendingRecords[kind][id]
  if pending ~= nil then return pending or nil end
  if undecoded[kind] then
    if redis.call('HEXISTS', recordHashes[kind], id) == 1 then return {} end
    return nil
  end
  local raw = redis.call('HGET', recordHashes[kind], id)
  if not raw then return nil end
  return decodeObject(raw) or {}
end

local function nameHolder(kind, name)
  local pending = pendingNames[kind][name]
  if pending ~= nil then return pending or nil end
  return redis.call('HGET', nameIndexes[kind], name) or nil
end

-- The index entry a record holds: none for unindexed kinds and removed records.
local function indexedName(kind, record)
  if not record or nameIndexes[kind] == nil or record.state == 'removed' then return nil end
  if type(record.name) ~= 'string' then return nil end
  if kind == 'service' or kind == 'loadBalancer' then return tostring(record.stackId) .. '/' .. record.name end
  return record.name
end

local function releaseName(kind, name, id)
  if name and nameHolder(kind, name) == id then pendingNames[kind][name] = false end
end

local changes = {}
local hostKeysCursor = 20
local arg = 4
local putCount = tonumber(ARGV[arg])
for _ = 1, putCount do
  local kind, id, body = ARGV[arg + 1], ARGV[arg + 2], ARGV[arg + 3]
  arg = arg + 3
  if recordHashes[kind] == nil then return {'BAD_RECORD', kind, id, 'unknown kind'} end
  local record
  if undecoded[kind] then
    if string.sub(body, 1, 1) ~= '{' or string.sub(body, -1) ~= '}' then return {'BAD_RECORD', kind, id, 'not a JSON object'} end
    if not string.find(body, '"id":"' .. id .. '"', 1, true) then return {'BAD_RECORD', kind, id, 'id does not match'} end
    if tailMatch(body, '"rev":%d+}$') then return {'BAD_RECORD', kind, id, 'rev is set by the script'} end
    record = {}
  else
    record = decodeObject(body)
    if not record then return {'BAD_RECORD', kind, id, 'not a JSON object'} end
    if record.id ~= id then return {'BAD_RECORD', kind, id, 'id does not match'} end
    if record.rev ~= nil then return {'BAD_RECORD', kind, id, 'rev is set by the script'} end
  end

  -- An instance's previous record matters only for the event's action: unless this batch
  -- touched it already, HSET's answer says it when applying (no HEXISTS per instance here).
  local decideOnApply = undecoded[kind] and pendingRecords[kind][id] == nil
  local previous = nil
  if not decideOnApply then previous = currentRecord(kind, id) end
  local oldName, newName = indexedName(kind, previous), indexedName(kind, record)
  if newName ~= oldName then
    releaseName(kind, oldName, id)
    if newName then
      local holder = nameHolder(kind, newName)
      if holder and holder ~= id then return {'CONFLICT', kind, newName, holder} end
      -- Services and load balancers share their stack's names: checked here too, so two API
      -- writes creating one of each at once (creationsSince) cannot both take a name.
      local sharing = sharedNames[kind]
      local other = sharing and nameHolder(sharing, newName)
      if other and other ~= id then return {'CONFLICT', sharing, newName, other} end
      pendingNames[kind][newName] = id
    end
  end
  pendingRecords[kind][id] = record
  changes[#changes + 1] = { kind = kind, id = id, body = body, action = (not decideOnApply) and (previous and 'updated' or 'created') or nil }
end

arg = arg + 1
local removeCount = tonumber(ARGV[arg])
for _ = 1, removeCount do
  local kind, id = ARGV[arg + 1], ARGV[arg + 2]
  arg = arg + 2
  if recordHashes[kind] == nil then return {'BAD_RECORD', kind, id, 'unknown kind'} end
  local hostKeys = nil
  if kind == 'host' then
    hostKeys = { KEYS[hostKeysCursor], KEYS[hostKeysCursor + 1], KEYS[hostKeysCursor + 2],
                 KEYS[hostKeysCursor + 3], KEYS[hostKeysCursor + 4] }
    hostKeysCursor = hostKeysCursor + 5
  end
  local previous = currentRecord(kind, id)
  if previous then
    releaseName(kind, indexedName(kind, previous), id)
    pendingRecords[kind][id] = false
    changes[#changes + 1] = { kind = kind, id = id, action = 'removed', hostKeys = hostKeys,
      identityKey = kind == 'host' and type(previous.identityKey) == 'string' and previous.identityKey or nil }
  end
end

if #changes == 0 then return {'OK', tonumber(currentRev), tonumber(currentRev)} end

local rev = redis.call('INCR', KEYS[1])
local revText = string.format('%d', rev)
local onlyCreated, recordsKept = true, true
for _, change in ipairs(changes) do
  if change.action == 'removed' then
    redis.call('HDEL', recordHashes[change.kind], change.id)
    if change.hostKeys then redis.call('DEL', unpack(change.hostKeys)) end
    if change.identityKey then redis.call('HSET', KEYS[17], change.identityKey, change.id) end
  else
    local added = redis.call('HSET', recordHashes[change.kind], change.id, withFieldText(change.body, 'rev', revText))
    if change.action == nil then change.action = added == 1 and 'created' or 'updated' end
    local machineId = change.kind == 'host' and pendingRecords.host[change.id] and pendingRecords.host[change.id].machineId
    if type(machineId) == 'string' then redis.call('HSET', KEYS[16], machineId, change.id) end
  end
  if change.action ~= 'created' then
    onlyCreated = false
    if change.kind ~= 'instance' then recordsKept = false end
  end
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', '10000', '*',
    'type', change.kind, 'action', change.action, 'id', change.id, 'rev', rev)
end
for kind, names in pairs(pendingNames) do
  for name, holder in pairs(names) do
    if holder then redis.call('HSET', nameIndexes[kind], name, holder)
    else redis.call('HDEL', nameIndexes[kind], name) end
  end
end
if onlyCreated then noteInRun(KEYS[18], rev) end
if recordsKept then noteInRun(KEYS[19], rev) end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '1000', '*', 'type', 'write', 'rev', rev)
return {'OK', rev, tonumber(currentRev)}
`,
};
