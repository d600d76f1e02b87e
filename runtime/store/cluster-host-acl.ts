import Redis, { type Cluster, type RedisOptions } from "ioredis";
import { hostUsers, sameRules } from "./acl-lines";
import type { AclSyncTurn } from "./acl-sync-turn";
import { parseClusterNodes } from "./cluster-nodes";

/**
 * Per-host ACL users on every node of a Redis Cluster. Redis replicates neither ACL SETUSER
 * to replicas nor across shards, and an agent's Cluster client connects to whichever
 * primary serves its keys (and to a replica once promoted), so each user must exist on every
 * primary and every replica. The same choice as for Sentinel (host-acl-replicas.ts): the
 * server writes each user on every node, and keeps them in step.
 *
 * - provision/remove: ACL SETUSER/DELUSER on every node CLUSTER NODES lists (primaries and
 *   replicas), before the registration answers.
 * - sync: every `intervalMs` on one of the servers (acl-sync-turn.ts), and on each server
 *   when the cluster's topology changes (a node added, a failover), every node's drover host
 *   users are made equal to the reference node's: the first primary (by address) that answers. A node that was down or is new catches up; a
 *   user the reference lacks is deleted by the second sync in a row that finds it so (a user
 *   being provisioned by another server is never taken for a removed one).
 */
export class ClusterHostAcl {
  private readonly nodes = new Map<string, Redis>();
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private stopped = false;
  /** Host users the last sync found on a node but not on the reference (deleted if the next finds them so too). */
  private missingFromReference = new Set<string>();
  /** Every node, as CLUSTER NODES last listed them (provision and remove write there). */
  private known?: Array<{ address: string; primary: boolean }>;
  private readonly onChange = () => void this.sync().catch((err) => this.log("acl sync failed", err));
  private readonly onTick = () => void this.periodicSync().catch((err) => this.log("acl sync failed", err));

  constructor(
    private readonly cluster: Cluster,
    /** Options of a direct admin connection (credentials, TLS), host and port left to this class. */
    private readonly nodeOptions: RedisOptions,
    /** Users whose names start with this are drover's host users (`<prefix>-host-`). */
    private readonly userPrefix: string,
    private readonly log: (message: string, err?: unknown) => void,
    private readonly intervalMs = 5_000,
    /** Shared by the servers: one of them runs each interval's sync (acl-sync-turn.ts); absent: this one always does. */
    private readonly turn?: AclSyncTurn,
  ) {}

  start(): void {
    this.cluster.on("refresh", this.onChange);
    this.timer = setInterval(this.onTick, this.intervalMs);
    this.timer.unref();
    this.onChange();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cluster.off("refresh", this.onChange);
    if (this.timer) clearInterval(this.timer);
    await this.syncing?.catch(() => undefined);
    for (const node of this.nodes.values()) node.disconnect();
    this.nodes.clear();
  }

  async provision(username: string, rules: string[]): Promise<void> {
    await this.onEveryKnownNode((node) => node.call("ACL", "SETUSER", username, ...rules));
  }

  async remove(username: string): Promise<void> {
    await this.onEveryKnownNode((node) => node.call("ACL", "DELUSER", username));
  }

  /**
   * `fn` on every node of the last CLUSTER NODES read (re-read by every sync, at most
   * `intervalMs` old), not one read per registration: 1,000 hosts registering at once asked
   * for CLUSTER NODES 1,000 times. A node added since is caught up by the next sync. When no
   * primary of that list took the change (a failover moved the primaries since), the list is
   * read again and the change retried once on it.
   */
  private async onEveryKnownNode(fn: (node: Redis) => Promise<unknown>): Promise<void> {
    const cached = this.known;
    try {
      await this.onEveryNode(fn, cached ?? await this.refreshAddresses());
    } catch (err) {
      if (!cached) throw err;
      await this.onEveryNode(fn, await this.refreshAddresses());
    }
  }

  private async refreshAddresses(): Promise<Array<{ address: string; primary: boolean }>> {
    this.known = await this.addresses();
    return this.known;
  }

  sync(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.syncing ??= this.syncOnce().finally(() => { this.syncing = undefined; });
    return this.syncing;
  }

  private async periodicSync(): Promise<void> {
    if (this.turn && !(await this.turn.take(this.intervalMs))) return;
    await this.sync();
  }

  private async syncOnce(): Promise<void> {
    const all = await this.refreshAddresses();
    let wanted: Map<string, string> | undefined;
    for (const address of all.filter((a) => a.primary).map((a) => a.address).sort()) {
      try {
        wanted = hostUsers((await this.node(address).call("ACL", "LIST")) as string[], this.userPrefix);
        break;
      } catch { /* the next primary */ }
    }
    if (!wanted) return;
    const reference = wanted;
    // A user missing from the reference is deleted only when the previous sync found it missing
    // too: with several servers, a sync that read the reference while another server's
    // provision was halfway (written on some nodes, not yet on the reference) deleted the new
    // user from every other node — and a later sync could then lose it everywhere (found at
    // 500 simulated agents on a cluster: 3 host users on no node, their agents never ready).
    const missingBefore = this.missingFromReference;
    const missingNow = new Set<string>();
    await this.onEveryNode(async (node) => {
      const have = hostUsers((await node.call("ACL", "LIST")) as string[], this.userPrefix);
      for (const [name, line] of reference) {
        const current = have.get(name);
        if (current === undefined || !sameRules(current, line)) await node.call("ACL", "SETUSER", name, "reset", ...line.split(" ").slice(2));
      }
      for (const name of have.keys()) {
        if (reference.has(name)) continue;
        missingNow.add(name);
        if (missingBefore.has(name)) await node.call("ACL", "DELUSER", name);
      }
    }, all);
    this.missingFromReference = missingNow;
  }

  /**
   * Runs `fn` on every node. A node that fails is logged, unless every primary failed
   * (then the user exists nowhere useful and the caller must know).
   */
  private async onEveryNode(fn: (node: Redis) => Promise<unknown>, known?: Array<{ address: string; primary: boolean }>): Promise<void> {
    const all = known ?? await this.addresses();
    const results = await Promise.all(all.map(async ({ address, primary }) => {
      try {
        await fn(this.node(address));
        return { primary, ok: true };
      } catch (err) {
        this.log(`acl: node ${address} not updated (the next sync retries)`, err);
        return { primary, ok: false };
      }
    }));
    if (results.some((r) => r.primary) && !results.some((r) => r.primary && r.ok)) throw new Error("acl: no primary of the cluster took the change");
  }

  /** Every node CLUSTER NODES lists, except those flagged failed or without an address. */
  private async addresses(): Promise<Array<{ address: string; primary: boolean }>> {
    return parseClusterNodes((await this.cluster.call("CLUSTER", "NODES")) as string)
      .filter((n) => !n.unusable).map(({ address, primary }) => ({ address, primary }));
  }

  private node(address: string): Redis {
    let node = this.nodes.get(address);
    if (!node) {
      const i = address.lastIndexOf(":");
      node = new Redis({
        ...this.nodeOptions, host: address.slice(0, i), port: Number(address.slice(i + 1)), lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: true, connectionName: "drover-acl-sync",
        // Registrations arriving together: their SETUSERs to a node leave in one write.
        enableAutoPipelining: true,
      });
      node.on("error", () => { /* reported through the commands that fail */ });
      this.nodes.set(address, node);
    }
    return node;
  }
}
