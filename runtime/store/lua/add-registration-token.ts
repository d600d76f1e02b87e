import type { LuaScript } from "../scripts";

/** The environment's own half of addRegistrationToken (RedisStore.addRegistrationToken). */
export const addRegistrationTokenScript: LuaScript = {
  name: "droverAddRegistrationToken",
  lua: `
-- addRegistrationToken, per-environment half: the token's metadata in the environment's
-- tokens hash. Runs after the token hash was claimed in the global registrationTokens index
-- (lua/index-entries.ts), which the caller undoes on NO_ENV.
--
-- KEYS[1] env rev   KEYS[2] env tokens hash
-- ARGV[1] token hash   ARGV[2] token metadata JSON
--
-- Returns {'OK'} | {'NO_ENV'}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NO_ENV'} end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return {'OK'}
`,
};
