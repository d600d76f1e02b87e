import type Redis from "ioredis";
import { DroverError } from "../protocol/errors";
import type { Keys } from "../protocol/keys";
import { leaderAcquireScript } from "./lua/leader-acquire";
import { leaderReleaseScript } from "./lua/leader-release";
import { withRedis } from "./redis-errors";
import { runScript } from "./scripts";

export interface LeaseState {
  leader: boolean;
  /** This server's fence while it leads: pass it to Store.write / setDesired as `fence`. */
  fence?: number;
  /** Who leads instead, when this server does not. */
  holder?: string;
}

/**
 * The reconciler leader lease of an environment, with fencing. A lease is taken with a new
 * fence number (never reused); writes made with `fence` are refused ("NotLeader") once the
 * lease expired or passed to another server, so a paused or partitioned old leader cannot
 * overwrite the new leader's work.
 *
 * `serverId` must be unique per server process (e.g. hostname + pid + random): two
 * processes with one id would both believe they lead.
 */
export class LeaderLease {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}

  /**
   * Takes the lease if free, renews it (same fence) if this server holds it. Call well within
   * ttlMs. NotFound once the environment is gone (purged): stop reconciling it.
   */
  async acquireOrRenew(envId: string, serverId: string, ttlMs: number): Promise<LeaseState> {
    checkServerId(serverId);
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new DroverError("InvalidField", "ttlMs must be a positive integer", { field: "ttlMs" });
    const env = this.keys.env(envId);
    const reply = await withRedis(() => runScript(this.redis, leaderAcquireScript, [env.leader, env.fence, env.rev], [serverId, ttlMs]));
    const [held, value] = reply as [number, number | string];
    if (held === -1) throw new DroverError("NotFound", `environment ${envId} not found`, { field: "envId", retryable: false });
    return held === 1 ? { leader: true, fence: Number(value) } : { leader: false, holder: String(value) };
  }

  /** Ends the lease now if this server holds it (e.g. on shutdown), so another server can take over at once. */
  async release(envId: string, serverId: string): Promise<boolean> {
    checkServerId(serverId);
    const reply = await withRedis(() => runScript(this.redis, leaderReleaseScript, [this.keys.env(envId).leader], [serverId]));
    return reply === 1;
  }
}

function checkServerId(serverId: string): void {
  if (typeof serverId !== "string" || serverId === "") throw new DroverError("InvalidField", "serverId must be a non-empty string", { field: "serverId" });
}
