import type { Cluster } from "ioredis";

/** How long a primary's count of connected replicas (ROLE) is trusted, by default. */
const defaultRoleTtlMs = 1000;

/**
 * WAIT on a Redis Cluster: every primary the client holds a connection to is asked to
 * confirm that this client's writes on it reached `count` of its replicas (a primary with no
 * write of ours since answers at once). A shard whose replica was just promoted has none
 * left until the old primary returns: it is asked for as many as it has connected (ROLE,
 * re-read at most once a second), so its writes go on, unprotected as they can only be,
 * rather than every one of them waiting out the timeout and being refused.
 */
export class ClusterWaiter {
  private readonly replicas = new Map<string, { count: number; at: number }>();

  constructor(private readonly cluster: Cluster, private readonly roleTtlMs = defaultRoleTtlMs) {}

  /** The primaries that fell short, with what they reached. */
  async wait(count: number, timeoutMs: number): Promise<Array<{ node: string; acked: number; wanted: number }>> {
    const short = await Promise.all(this.cluster.nodes("master").map(async (node) => {
      const address = `${node.options.host}:${node.options.port}`;
      let known = this.replicas.get(address);
      if (!known || Date.now() - known.at > this.roleTtlMs) {
        const role = (await node.call("ROLE")) as [string, number, unknown[]];
        known = { count: role[0] === "master" ? role[2].length : 0, at: Date.now() };
        this.replicas.set(address, known);
      }
      const wanted = Math.min(count, known.count);
      if (wanted === 0) return undefined;
      let acked: number;
      try {
        acked = Number(await node.call("WAIT", wanted, timeoutMs));
      } catch (err) {
        // Demoted since its ROLE was read (a failover): whatever it took from us may be lost
        // with it, so the write is reported failed and retryable (503), not an internal error.
        if (!/WAIT cannot be used with replica/i.test((err as Error).message)) throw err;
        this.replicas.delete(address);
        acked = 0;
      }
      return acked < wanted ? { node: address, acked, wanted } : undefined;
    }));
    return short.filter((s): s is { node: string; acked: number; wanted: number } => s !== undefined);
  }
}
