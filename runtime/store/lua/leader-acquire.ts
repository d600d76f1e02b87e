import type { LuaScript } from "../scripts";

/** Takes or renews an environment's reconciler lease (LeaderLease.acquireOrRenew). */
export const leaderAcquireScript: LuaScript = {
  name: "droverLeaderAcquire",
  lua: `
-- leaderAcquire: a lease value is '<serverId>:<fence>'. A free lease is taken with the next
-- fence (INCR of the fence counter, so fences never repeat); a lease this server holds is
-- renewed with its fence unchanged; someone else's lease is left alone.
--
-- KEYS[1] env leader   KEYS[2] env fence counter   KEYS[3] env rev
-- ARGV[1] serverId   ARGV[2] lease ttl in ms
--
-- Returns {1, fence} (this server leads) | {0, holderServerId} | {-1} (no such environment:
-- a lease must not recreate keys of a purged environment)
if redis.call('EXISTS', KEYS[3]) == 0 then return {-1} end
local lease = redis.call('GET', KEYS[1])
if not lease then
  local fence = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1] .. ':' .. fence, 'PX', ARGV[2])
  return {1, fence}
end
local holder, fence = string.match(lease, '^(.*):(%d+)$')
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, tonumber(fence)}
end
return {0, holder or lease}
`,
};
