import type { LuaScript } from "../scripts";
import { decodeObjectLua, fenceHeldLua, withFieldLua } from "./common";

/** Writes a host's desired document and nudges its agent (RedisStore.setDesired). */
export const setDesiredScript: LuaScript = {
  name: "droverSetDesired",
  lua: `
-- setDesired: replaces the host's HostDesiredState with generation = previous + 1 (so it
-- only ever grows, whatever the caller had read) and appends a nudge for the agent.
--
-- KEYS[1] env rev   KEYS[2] env hosts hash   KEYS[3] env leader
-- KEYS[4] host desired   KEYS[5] host nudges stream
-- ARGV[1] hostId   ARGV[2] desired JSON (an object without generation)
-- ARGV[3] leader fence, or ''
--
-- Returns {'OK', generation} | {'NO_ENV'} | {'NOT_LEADER'} | {'NO_HOST'}
--       | {'BAD_RECORD', reason}
${withFieldLua}${fenceHeldLua}${decodeObjectLua}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NO_ENV'} end
if ARGV[3] ~= '' and not fenceHeld(KEYS[3], ARGV[3]) then return {'NOT_LEADER'} end
-- Only hosts the environment knows: purgeEnvironment finds host keys through the hosts hash.
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return {'NO_HOST'} end
-- Checked by its outline, not decoded (the store built it from an object without generation;
-- decoding a document of 20 instances was twice the rest of the script): an object whose text
-- does not end in a generation.
local body = ARGV[2]
if string.sub(body, 1, 1) ~= '{' or string.sub(body, -1) ~= '}' or tailMatch(body, '"generation":%d+}$') then
  return {'BAD_RECORD', 'expected an object without generation'}
end

local generation = 1
local previous = redis.call('GET', KEYS[4])
if previous then
  -- withField put the generation last: read it there without decoding the whole document
  -- (a pass writes a thousand of them); anything else is decoded as before.
  local last = tailMatch(previous, '"generation":(%d+)}$')
  if last then generation = tonumber(last) + 1
  else
    local parsed = decodeObject(previous)
    if parsed and type(parsed.generation) == 'number' then generation = parsed.generation + 1 end
  end
end
redis.call('SET', KEYS[4], withField(ARGV[2], 'generation', generation))
redis.call('XADD', KEYS[5], 'MAXLEN', '~', '100', '*', 'type', 'desired', 'generation', generation)
return {'OK', generation}
`,
};
