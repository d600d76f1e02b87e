import type { LuaScript } from "../scripts";
import { decodeObjectLua, fenceHeldLua, withFieldLua } from "./common";

/** Writes the environment's DNS document and nudges the given hosts (RedisStore.setDns). */
export const setDnsScript: LuaScript = {
  name: "droverSetDns",
  lua: `
-- setDns: replaces the EnvDnsDocument with version = previous + 1 (so agents can drop an
-- older document that arrives late) and appends a 'dns' nudge to each host's stream.
--
-- KEYS[1] env rev   KEYS[2] env leader   KEYS[3] env dns   KEYS[4..] host nudges streams
-- ARGV[1] leader fence, or ''   ARGV[2] the document JSON without version ({"directory":...})
--
-- Returns {'OK', version} | {'NO_ENV'} | {'NOT_LEADER'} | {'BAD_RECORD', reason}
${withFieldLua}${fenceHeldLua}${decodeObjectLua}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NO_ENV'} end
if ARGV[1] ~= '' and not fenceHeld(KEYS[2], ARGV[1]) then return {'NOT_LEADER'} end
local doc = decodeObject(ARGV[2])
if not doc or doc.version ~= nil then return {'BAD_RECORD', 'expected an object without version'} end
local version = 1
local previous = redis.call('GET', KEYS[3])
if previous then
  local parsed = decodeObject(previous)
  if parsed and type(parsed.version) == 'number' then version = parsed.version + 1 end
end
redis.call('SET', KEYS[3], withField(ARGV[2], 'version', version))
for i = 4, #KEYS do
  redis.call('XADD', KEYS[i], 'MAXLEN', '~', '100', '*', 'type', 'dns', 'version', version)
end
return {'OK', version}
`,
};
