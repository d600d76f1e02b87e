import type { LuaScript } from "../scripts";
import { fenceHeldLua, withFieldLua, writeRunLua } from "./common";

/**
 * The incremental reconcile's write (RedisStore.observeInstances): instance records updated
 * from one agent report, each only if it is still the revision the reconciler read. Unlike
 * `write` it sends no reconcile nudge: what it writes is already settled, so it must not make
 * the leader run the full pass it exists to avoid.
 */
export const observeInstancesScript: LuaScript = {
  name: "droverObserveInstances",
  lua: `
-- observeInstances: updates instance records whose revision has not moved since they were read.
--
-- KEYS[1] env rev   KEYS[2] env leader   KEYS[3] env events stream   KEYS[4] instances hash
-- KEYS[5] recordsKeptRun (keys.ts): only instances change here
-- ARGV[1] leader fence, or ''   ARGV[2] N, then N triples: id, revision read, record JSON without rev
--
-- The stored record's rev is the last field (withField appends it), read without decoding.
-- Returns {'OK', rev} | {'NO_ENV'} | {'NOT_LEADER'} | {'REV_MISMATCH', id}
${withFieldLua}${fenceHeldLua}${writeRunLua}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'NO_ENV'} end
if ARGV[1] ~= '' and not fenceHeld(KEYS[2], ARGV[1]) then return {'NOT_LEADER'} end
local n = tonumber(ARGV[2])
for k = 0, n - 1 do
  local id, readRev = ARGV[3 + 3 * k], ARGV[4 + 3 * k]
  local raw = redis.call('HGET', KEYS[4], id)
  if not raw or tailMatch(raw, '"rev":(%d+)}$') ~= readRev then return {'REV_MISMATCH', id} end
end
if n == 0 then return {'OK', tonumber(redis.call('GET', KEYS[1]))} end
local rev = redis.call('INCR', KEYS[1])
for k = 0, n - 1 do
  local id, body = ARGV[3 + 3 * k], ARGV[5 + 3 * k]
  redis.call('HSET', KEYS[4], id, withField(body, 'rev', rev))
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', '10000', '*', 'type', 'instance', 'action', 'updated', 'id', id, 'rev', rev)
end
noteInRun(KEYS[5], rev)
return {'OK', rev}
`,
};
