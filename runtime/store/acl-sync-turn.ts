import type { Cluster, Redis } from "ioredis";

/**
 * Whose turn the periodic ACL sync is (host-acl-replicas.ts, cluster-host-acl.ts). Every
 * server ran it every interval: at 5,000 host users on a 3-primary cluster that was 77
 * `ACL LIST`s in a 20 s window, 3.6 s of the nodes' CPU (bench scale), all three servers
 * finding the same nothing to change. One sync per interval does the same work: each tick a
 * server tries to take the turn (SET NX with the interval as expiry) and syncs only if it did.
 * A server that goes away stops taking it; another takes it once it expires. Syncs on a
 * topology change (a failover, a new primary) do not ask: each server runs its own then.
 */
export class AclSyncTurn {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly key: string,
    /** This server's id (what the key holds while it has the turn). */
    private readonly holder: string,
  ) {}

  /** True when this server syncs this interval. Redis not answering: true (the sync's own errors are logged as before). */
  async take(intervalMs: number): Promise<boolean> {
    try {
      return (await this.redis.set(this.key, this.holder, "PX", intervalMs, "NX")) === "OK";
    } catch {
      return true;
    }
  }
}
