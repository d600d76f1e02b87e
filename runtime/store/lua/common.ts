/**
 * Lua helpers shared by several scripts, pasted into their text (Redis scripts cannot
 * import). Every helper is `local`: Redis 7 forbids scripts from creating globals.
 */

/**
 * `withField(body, name, value)`: appends `"name":value` to the text of a JSON object.
 * Scripts add `rev`/`generation` this way rather than with cjson.encode, because Redis 7.0's
 * cjson turns empty arrays into `{}` and rounds numbers beyond 14 significant digits, which
 * would corrupt records (e.g. `ports: []`). Callers send objects without that field.
 */
export const withFieldLua = `
-- The field withField appended, matched at the text's end only: a pattern ending in $ is tried
-- at every position of the whole text otherwise (a desired document is kilobytes; measured:
-- 40 us per call of a 5 KB one, against none for its last 48 bytes).
local function tailMatch(text, pattern)
  return string.match(string.sub(text, -48), pattern)
end
-- withFieldText: the same with the value's text made once by the caller (a write of thousands).
local function withFieldText(body, name, text)
  if body == '{}' then return '{"' .. name .. '":' .. text .. '}' end
  return string.sub(body, 1, -2) .. ',"' .. name .. '":' .. text .. '}'
end
local function withField(body, name, value)
  return withFieldText(body, name, string.format('%d', value))
end
`;

/**
 * `fenceHeld(leaderKey, fence)`: true when the environment's leader lease (value
 * `<serverId>:<fence>`) exists and carries exactly this fence. A lease that expired or was
 * taken over by another server carries another fence, so a stale leader is refused.
 */
export const fenceHeldLua = `
local function fenceHeld(leaderKey, fence)
  local lease = redis.call('GET', leaderKey)
  if not lease then return false end
  return string.match(lease, ':(%d+)$') == fence
end
`;

/** `decodeObject(text)`: cjson.decode that yields nil instead of raising on bad input or non-objects. */
export const decodeObjectLua = `
local function decodeObject(text)
  local ok, value = pcall(cjson.decode, text)
  if ok and type(value) == 'table' then return value end
  return nil
end
`;

/**
 * Runs of writes of one kind (keys.ts EnvKeys.creationRun, recordsKeptRun). `noteInRun(key, rev)`
 * after a write of the run's kind that took revision `rev`: it extends the run when the write
 * before it was one too, otherwise starts one. Other writes leave the key alone: their
 * revision breaks the run, as its end is then not the current revision (a revision bumped by
 * hand too).
 * `runCovers(key, expected, current)`: true when every write after revision `expected` up to
 * `current` was of the run's kind.
 */
export const writeRunLua = `
local function runOf(key)
  local run = redis.call('GET', key)
  if not run then return nil, nil end
  local from, to = string.match(run, '^(%d+):(%d+)$')
  if not from then return nil, nil end
  return tonumber(from), tonumber(to)
end
local function noteInRun(key, rev)
  local from, to = runOf(key)
  if to ~= rev - 1 then from = rev end
  redis.call('SET', key, from .. ':' .. rev)
end
local function runCovers(key, expected, current)
  if expected >= current then return false end
  local from, to = runOf(key)
  return from ~= nil and to == current and from <= expected + 1
end
`;
