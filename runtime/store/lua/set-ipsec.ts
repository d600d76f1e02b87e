import type { LuaScript } from "../scripts";

/** Sets the environment's pre-shared key (RedisStore.setIpsec): first key or rotation. */
export const setIpsecScript: LuaScript = {
  name: "droverSetIpsec",
  lua: `
-- setIpsec: stores the IpsecSpec JSON and wakes the reconciler, which hands the key to every
-- host. The revision is bumped so a reconciler that skips quiet passes notices.
--
-- KEYS[1] env rev   KEYS[2] env psk   KEYS[3] env reconcile stream
-- ARGV[1] IpsecSpec JSON   ARGV[2] 'absent' to set only when there is no key yet, else ''
--
-- Returns {'OK', rev} | {'NO_ENV'} | {'EXISTS'} (ARGV[2] = 'absent' and a key is set)
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NO_ENV'} end
if ARGV[2] == 'absent' and redis.call('EXISTS', KEYS[2]) == 1 then return {'EXISTS'} end
redis.call('SET', KEYS[2], ARGV[1])
local rev = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', '1000', '*', 'type', 'write', 'rev', rev)
return {'OK', rev}
`,
};
