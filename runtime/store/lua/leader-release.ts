import type { LuaScript } from "../scripts";

/** Gives up an environment's reconciler lease if this server holds it (LeaderLease.release). */
export const leaderReleaseScript: LuaScript = {
  name: "droverLeaderRelease",
  lua: `
-- leaderRelease: deletes the lease only when this server holds it, so a server whose lease
-- already passed to another cannot end the new leader's lease.
--
-- KEYS[1] env leader
-- ARGV[1] serverId
--
-- Returns 1 (released) | 0 (not held by this server)
local lease = redis.call('GET', KEYS[1])
if lease and string.match(lease, '^(.*):%d+$') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`,
};
