import Redis, { type RedisOptions } from "ioredis";
import { hostUsers, sameRules } from "./acl-lines";
import type { AclSyncTurn } from "./acl-sync-turn";

/**
 * Per-host ACL users on every data node. Redis replicates data, not ACL changes, so after a
 * failover the new primary would refuse every agent whose user was created on the old one.
 *
 * Chosen: the server writes each user on every node itself, and keeps the replicas in step
 * with the primary. Not an ACL file: the servers do not run on the Redis machines, so a file
 * they kept would need copying to each node and an ACL LOAD there anyway; the nodes' own ACL
 * tables are the one truth, and the primary's is the reference.
 *
 * - provision/remove: ACL SETUSER/DELUSER on the primary (the caller's client), then on every
 *   replica the primary reports (ROLE), before the registration answers.
 * - sync: every `intervalMs` on one of the servers (acl-sync-turn.ts), and on each server
 *   whenever its client connects to a (new) primary, each replica's drover host users are
 *   made equal to the primary's (ACL LIST replayed with
 *   ACL SETUSER ... reset, extra users deleted): a replica that was down or newly added
 *   catches up, so whichever node is promoted next knows every agent.
 * A user written on the primary alone in the instant before it died is lost with it; that
 * agent's next login is refused (WRONGPASS) and it registers again (agent/host-session.ts).
 */
export class HostAclReplicas {
  private readonly nodes = new Map<string, Redis>();
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private stopped = false;
  private readonly onReady = () => void this.sync().catch((err) => this.log("acl sync failed", err));
  private readonly onTick = () => void this.periodicSync().catch((err) => this.log("acl sync failed", err));

  constructor(
    private readonly primary: Redis,
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
    this.primary.on("ready", this.onReady);
    this.timer = setInterval(this.onTick, this.intervalMs);
    this.timer.unref();
    this.onReady();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.primary.off("ready", this.onReady);
    if (this.timer) clearInterval(this.timer);
    await this.syncing?.catch(() => undefined);
    for (const node of this.nodes.values()) node.disconnect();
    this.nodes.clear();
  }

  /** After ACL SETUSER on the primary: the same rules on each replica. */
  async provision(username: string, rules: string[]): Promise<void> {
    await this.onReplicas((node) => node.call("ACL", "SETUSER", username, ...rules));
  }

  async remove(username: string): Promise<void> {
    await this.onReplicas((node) => node.call("ACL", "DELUSER", username));
  }

  /** One pass making every replica's host users equal the primary's. */
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
    const wanted = hostUsers((await this.primary.call("ACL", "LIST")) as string[], this.userPrefix);
    await this.onReplicas(async (node) => {
      const have = hostUsers((await node.call("ACL", "LIST")) as string[], this.userPrefix);
      for (const [name, line] of wanted) {
        const current = have.get(name);
        if (current === undefined || !sameRules(current, line)) await node.call("ACL", "SETUSER", name, "reset", ...line.split(" ").slice(2));
      }
      for (const name of have.keys()) if (!wanted.has(name)) await node.call("ACL", "DELUSER", name);
    });
  }

  /** Runs `fn` on every replica the primary reports; a replica that fails is logged (the next sync repairs it). */
  private async onReplicas(fn: (node: Redis) => Promise<unknown>): Promise<void> {
    const role = (await this.primary.call("ROLE")) as [string, number, [string, string, string][]];
    if (role[0] !== "master") return;
    await Promise.all(role[2].map(async ([host, port]) => {
      try {
        await fn(this.node(host, Number(port)));
      } catch (err) {
        this.log(`acl: replica ${host}:${port} not updated (the next sync retries)`, err);
      }
    }));
  }

  private node(host: string, port: number): Redis {
    const key = `${host}:${port}`;
    let node = this.nodes.get(key);
    if (!node) {
      node = new Redis({ ...this.nodeOptions, host, port, lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: true, connectionName: "drover-acl-sync" });
      node.on("error", () => { /* reported through the commands that fail */ });
      this.nodes.set(key, node);
    }
    return node;
  }
}
