import { once } from "events";
import Redis, { type Cluster, type RedisOptions } from "ioredis";
import { DroverError, isDroverError } from "../protocol/errors";
import type { DnsDirectory, EnvDnsDocument } from "../protocol/dns";
import type { CertificateRecord, EnvironmentRecord, EnvironmentState, HostRecord, HostDesiredState, HostObservedState, InstanceRecord, IpsecSpec, ReconcileError } from "../protocol/model";
import { RedisEventReader, streamFieldsOf } from "./event-reader";
import { duplicateClient, NO_COMMAND_TIMEOUT } from "../protocol/redis-client";
import { secretContext } from "../protocol/secret-contexts";
import { hasSecrets, resealDesired } from "../protocol/desired-sealing";
import { BoundedMemo } from "./bounded-memo";
import type { Keyring } from "../secrets/keyring";
import { sealRecordSecrets } from "../secrets/record-sealing";
import { isSealed, seal, sealedKeyId, unseal } from "../protocol/seal";
import { hostUserAclRules, hostUsername, hostUsernamePrefix, provisionHostUser, removeHostUser } from "./host-acl";
import type { HostAclReplicas } from "./host-acl-replicas";
import { hostDataKeys, type Keys } from "../protocol/keys";
import { dockerDiskOfEntry, statsHistoryLength, type DockerDiskSpace } from "../protocol/stats";
import { addRegistrationTokenSplit, conflictKeptChanging, createEnvironmentSplit, dropEnvironmentIndexEntries, dropEnvironmentRecord, updateEnvironmentSplit } from "./environment-writes";
import { registerHostScript } from "./lua/register-host";
import { purgeEnvironmentScript } from "./lua/purge-environment";
import { setDesiredScript } from "./lua/set-desired";
import { setDnsScript } from "./lua/set-dns";
import { setIpsecScript } from "./lua/set-ipsec";
import { writeScript } from "./lua/write";
import { observeInstancesScript } from "./lua/observe-instances";
import { byCreation, jsonWithout, parseStored, parseStoredOrUndefined } from "./record-json";
import { toDroverError, withRedis } from "./redis-errors";
import { ReplicaWait } from "./replica-wait";
import { defineScripts, type LuaScript, runScript, scriptReply } from "./scripts";
import { allScripts } from "./lua/all";
import { scriptRefusal } from "./script-refusals";
import { ClusterWaiter } from "./cluster-wait";
import type { EnvSnapshot, EventReader, OmittableList, PreparedWrite, RecordKind, RecordOf, SnapshotWithout, Store, StoreEvent, WriteBatch, WriteOptions } from "./store";
import { isPreparedWrite } from "./store";
import { optionalInteger, recordHash, writeBatchArgs, writeOptionArgs } from "./write-batch";

/** The nodes whose keys a SCAN must cover: the one Redis, or every primary of a Cluster. */
function scanTargets(redis: Redis): Redis[] {
  return redis.isCluster ? (redis as unknown as Cluster).nodes("master") : [redis];
}

export type EnvironmentPatch = Partial<Pick<EnvironmentRecord, "name" | "description" | "state" | "reconcileError">>;

/** Attempts for read-then-script operations that lost a race (updateEnvironment, purgeEnvironment). */
const raceAttempts = 5;

/**
 * The Store on Redis: every atomic write is one Lua script under lua/, reads are plain
 * commands (snapshot in one MULTI/EXEC). All failures surface as DroverErrors; a Redis that
 * cannot be reached is "Unavailable" (retryable).
 *
 * Give it the server's (admin) ioredis client, or options to make one it then owns and
 * `close()`s. A server client should fail fast when Redis is down rather than queue for
 * long, e.g. `{ maxRetriesPerRequest: 1 }`.
 */
export interface RedisStoreOptions {
  /**
   * Seals secrets at rest (runtime/secrets/keyring.ts): the PSK on setIpsec, and desired
   * documents' secrets for their host on setDesired (opened back on getDesired). Without it
   * (tests of other parts) values are stored as given.
   */
  keyring?: Keyring;
  /** Redis with replicas (Sentinel, host-acl-replicas.ts; Cluster, cluster-host-acl.ts): host users are written on every node. */
  aclReplicas?: Pick<HostAclReplicas, "provision" | "remove">;
  /**
   * Redis with replicas: every write the store acknowledges has reached `count` replicas
   * (WAIT), so a failover cannot lose it; otherwise the write is reported failed
   * ("Unavailable": it may still be on the old primary).
   */
  waitReplicas?: { count: number; timeoutMs: number; /** A connection of its own for WAIT (replica-wait.ts); without it WAIT goes on the main one. */ connection?: Redis };
}

export class RedisStore implements Store {
  readonly redis: Redis;
  readonly keyring?: Keyring;
  private readonly ownsClient: boolean;
  /**
   * Secrets already sealed for a host's desired document: sealing is deterministic (seal.ts),
   * so the same secret under the same keys seals to the same text, and a pass that rewrites
   * a thousand documents (new instances, the same pre-shared key) opens and seals none again.
   */
  private readonly hostSealings = new BoundedMemo<string, string>(20_000);
  private readonly aclReplicas?: Pick<HostAclReplicas, "provision" | "remove">;
  private readonly waitReplicas?: { count: number; timeoutMs: number };
  private clusterWaiter?: ClusterWaiter;
  private readonly replicaWait?: ReplicaWait;

  constructor(redis: Redis | RedisOptions, readonly keys: Keys, opts: RedisStoreOptions = {}) {
    // A Cluster client (redis-client.ts) is a client too, though not an instance of Redis.
    const isClient = redis instanceof Redis || (redis as { isCluster?: boolean }).isCluster === true;
    this.ownsClient = !isClient;
    this.redis = isClient ? redis as Redis : new Redis(redis as RedisOptions);
    this.keyring = opts.keyring;
    this.aclReplicas = opts.aclReplicas;
    this.waitReplicas = opts.waitReplicas;
    if (opts.waitReplicas?.connection) {
      const { count, timeoutMs, connection } = opts.waitReplicas;
      this.replicaWait = new ReplicaWait(this.redis, connection, keys.replicaWaitMarker(), count, timeoutMs);
    }
    defineScripts(this.redis, allScripts);
  }

  /** Disconnects the client if this store created it. */
  async close(): Promise<void> {
    if (!this.ownsClient || this.redis.status === "end") return;
    const ended = once(this.redis, "end");
    await this.redis.quit().catch(() => this.redis.disconnect());
    await ended;
  }

  // Environments

  /** In one-slot steps, global entries first (environment-writes.ts says why and what repairs a half-done one). */
  async createEnvironment(env: Omit<EnvironmentRecord, "rev">, apiKeyHash: string, tokenHash: string): Promise<EnvironmentRecord> {
    const createdAt = new Date().toISOString();
    const rev = await createEnvironmentSplit(this.redis, this.keys, {
      env, apiKeyHash, tokenHash, apiKeyMeta: JSON.stringify({ createdAt }), tokenMeta: JSON.stringify({}),
    });
    await this.confirmWrites();
    return { ...env, rev };
  }

  async getEnvironment(envId: string): Promise<EnvironmentRecord | undefined> {
    const raw = await withRedis(() => this.redis.hget(this.keys.environments(), envId));
    return parseStoredOrUndefined<EnvironmentRecord>(raw, "environment");
  }

  async listEnvironments(): Promise<EnvironmentRecord[]> {
    const raws = await withRedis(() => this.redis.hvals(this.keys.environments()));
    return raws.map((raw) => parseStored<EnvironmentRecord>(raw, "environment")).sort(byCreation);
  }

  async setEnvironmentState(envId: string, state: EnvironmentState): Promise<EnvironmentRecord | undefined> {
    try {
      return await this.updateEnvironment(envId, { state });
    } catch (err) {
      if (isDroverError(err) && err.code === "NotFound") return undefined;
      throw err;
    }
  }

  /**
   * Changes an environment's name, description or state: a compare-and-set on the record's
   * rev, retried when another update got there first. Bumps the environment revision and
   * appends an `environment` event. NotFound if absent.
   */
  async updateEnvironment(envId: string, patch: EnvironmentPatch): Promise<EnvironmentRecord> {
    for (const field of Object.keys(patch)) {
      if (!["name", "description", "state", "reconcileError"].includes(field)) {
        throw new DroverError("UnknownField", `environment field ${field} cannot be changed`, { field });
      }
    }
    for (let attempt = 0; attempt < raceAttempts; attempt++) {
      const current = await this.getEnvironment(envId);
      if (!current) throw new DroverError("NotFound", `environment ${envId} not found`, { field: "envId" });
      const next = { ...current, ...patch };
      const result = await updateEnvironmentSplit(this.redis, this.keys, envId, current.rev, next);
      if (result !== "STALE") {
        await this.confirmWrites();
        return { ...next, rev: result.rev };
      }
    }
    throw conflictKeptChanging(envId);
  }

  async setReconcileError(envId: string, error: ReconcileError | undefined): Promise<void> {
    const current = await this.getEnvironment(envId);
    // Nothing to clear: no write, no event (the common case after every good pass).
    if (!current || (error === undefined && current.reconcileError === undefined)) return;
    try {
      await this.updateEnvironment(envId, { reconcileError: error });
    } catch (err) {
      if (isDroverError(err) && err.code === "NotFound") return;
      throw err;
    }
  }

  async listRegistrationTokens(envId: string): Promise<Array<{ tokenHash: string; meta: Record<string, string> }>> {
    const tokens = await withRedis(() => this.redis.hgetall(this.keys.env(envId).tokens));
    return Object.entries(tokens)
      .map(([tokenHash, meta]) => ({ tokenHash, meta: parseStored<Record<string, string>>(meta, "token metadata") }))
      .sort((a, b) => (a.tokenHash < b.tokenHash ? -1 : a.tokenHash > b.tokenHash ? 1 : 0));
  }

  async envIdForApiKey(apiKeyHash: string): Promise<string | undefined> {
    return (await withRedis(() => this.redis.hget(this.keys.apiKeys(), apiKeyHash))) ?? undefined;
  }

  async envIdForRegistrationToken(tokenHash: string): Promise<string | undefined> {
    return (await withRedis(() => this.redis.hget(this.keys.registrationTokens(), tokenHash))) ?? undefined;
  }

  async addRegistrationToken(envId: string, tokenHash: string, meta: Record<string, string>): Promise<void> {
    await addRegistrationTokenSplit(this.redis, this.keys, envId, tokenHash, JSON.stringify(meta));
    await this.confirmWrites();
  }

  /**
   * Deletes the ACL users of the environment's hosts (Redis also drops their connections, so
   * no agent recreates a key afterwards), then, in one-slot steps: its global index entries,
   * all its keys (one script), leftovers, and its record last. Until the record is gone the
   * environment stays listed in state "removing", so a purge that failed half-way runs again
   * (the reconciler, or the repair pass) and every step is idempotent.
   */
  async purgeEnvironment(envId: string): Promise<void> {
    const envKeys = this.keys.env(envId);
    for (let attempt = 0; attempt < raceAttempts; attempt++) {
      const hostIds = await withRedis(() => this.redis.hkeys(envKeys.hosts));
      for (const hostId of hostIds) await this.removeHostUserEverywhere(envId, hostId);
      await dropEnvironmentIndexEntries(this.redis, this.keys, envId);
      const hostKeys = hostIds.flatMap((hostId) => hostDataKeys(this.keys.host(envId, hostId)));
      const reply = scriptReply(await withRedis(() => runScript(this.redis, purgeEnvironmentScript, [
        envKeys.hosts,
        // Every key keys.ts defines for an environment, so keys added there are purged too.
        ...Object.values(envKeys).filter((key) => key !== envKeys.hosts),
        ...hostKeys,
      ], hostIds)));
      if (reply.status === "OK") {
        await this.sweepEnvironmentLeftovers(envId);
        await dropEnvironmentRecord(this.redis, this.keys, envId);
        return;
      }
      if (reply.status !== "HOSTS_CHANGED") throw scriptRefusal(reply.status, reply.details, `purge environment ${envId}`);
    }
    throw new DroverError("Conflict", `hosts of environment ${envId} kept changing during the purge`, { retryable: true });
  }

  /** Opens a reader on a duplicate of the store's connection (same server, same credentials). */
  openEventReader(envId: string): EventReader {
    return new RedisEventReader(duplicateClient(this.redis, NO_COMMAND_TIMEOUT), this.keys.env(envId).events);
  }

  async eventsAfter(envId: string, afterId: string, count: number): Promise<StoreEvent[]> {
    const entries = await withRedis(() => this.redis.xrange(this.keys.env(envId).events, `(${afterId}`, "+", "COUNT", count));
    return entries.map(([id, flat]) => ({ id, fields: streamFieldsOf(flat) }));
  }

  async newestEvents(envId: string, count: number): Promise<{ rev: number; events: StoreEvent[] }> {
    const env = this.keys.env(envId);
    const results = await withRedis(() => this.redis.multi().get(env.rev).xrevrange(env.events, "+", "-", "COUNT", count).exec());
    if (!results) throw new DroverError("Unavailable", `events of ${envId}: the read was aborted`, { retryable: true });
    const [[revErr, rev], [eventsErr, entries]] = results as [[Error | null, string | null], [Error | null, [string, string[]][]]];
    if (revErr || eventsErr) throw toDroverError(revErr ?? eventsErr);
    if (rev === null) throw new DroverError("NotFound", `environment ${envId} not found`, { field: "envId" });
    return { rev: Number(rev), events: entries.map(([id, flat]) => ({ id, fields: streamFieldsOf(flat) })) };
  }

  async recordsWithRev(envId: string, refs: ReadonlyArray<{ kind: RecordKind; id: string }>): Promise<{ rev: number; records: Array<RecordOf<RecordKind> | undefined> }> {
    const env = this.keys.env(envId);
    const multi = this.redis.multi().get(env.rev);
    for (const { kind, id } of refs) multi.hget(recordHash(env, kind), id);
    const results = await withRedis(() => multi.exec());
    if (!results) throw new DroverError("Unavailable", `records of ${envId}: the read was aborted`, { retryable: true });
    const values = results.map(([err, value]) => {
      if (err) throw toDroverError(err);
      return value as string | null;
    });
    if (values[0] === null) throw new DroverError("NotFound", `environment ${envId} not found`, { field: "envId" });
    return { rev: Number(values[0]), records: refs.map(({ kind }, k) => parseStoredOrUndefined<RecordOf<RecordKind>>(values[k + 1], kind)) };
  }

  // Records

  /**
   * One MULTI/EXEC on the environment's own keys (one slot): the rev and all record hashes
   * as of one instant. Then the environment record, which lives in the global environments
   * hash (another slot on Redis Cluster), read separately: a record whose rev is beyond the
   * snapshot's was updated in between (updateEnvironment takes the rev before writing the
   * record), so the snapshot is read again, and the record never runs ahead of the rest.
   */
  async snapshot(envId: string): Promise<EnvSnapshot> {
    return this.snapshotOf(envId, []) as Promise<EnvSnapshot>;
  }

  async snapshotWithout<K extends OmittableList>(envId: string, leaveOut: readonly K[]): Promise<SnapshotWithout<K>> {
    const snapshot: Partial<EnvSnapshot> = await this.snapshotOf(envId, leaveOut);
    for (const list of leaveOut) delete snapshot[list];
    return snapshot as SnapshotWithout<K>;
  }

  private async snapshotOf(envId: string, leaveOut: readonly OmittableList[]): Promise<EnvSnapshot> {
    for (let attempt = 0; ; attempt++) {
      const snapshot = await this.snapshotOnce(envId, leaveOut);
      if (snapshot.env.rev <= snapshot.rev || attempt >= raceAttempts) return snapshot;
    }
  }

  /** The lists left out come back empty (snapshotWithout then drops them, so no caller can take them for the truth). */
  private async snapshotOnce(envId: string, leaveOut: readonly OmittableList[]): Promise<EnvSnapshot> {
    const envKeys = this.keys.env(envId);
    const withHosts = !leaveOut.includes("hosts"), withInstances = !leaveOut.includes("instances");
    const results = await withRedis(() => {
      const multi = this.redis.multi()
        .get(envKeys.rev)
        .hvals(envKeys.stacks)
        .hvals(envKeys.services)
        .hvals(envKeys.loadBalancers)
        .hvals(envKeys.certificates);
      if (withHosts) multi.hvals(envKeys.hosts);
      if (withInstances) multi.hvals(envKeys.instances);
      return multi.exec();
    });
    if (!results) throw new DroverError("Unavailable", `snapshot of ${envId} was aborted`, { retryable: true });
    const replies = results.map(([err, value]) => {
      if (err) throw toDroverError(err);
      return value;
    }) as [string | null, ...string[][]];
    const [rev, stacks, services, loadBalancers, certificates] = replies as [string | null, string[], string[], string[], string[]];
    const hosts = withHosts ? replies[5] as string[] : [];
    const instances = withInstances ? replies[withHosts ? 6 : 5] as string[] : [];
    const envRaw = rev === null ? null : await withRedis(() => this.redis.hget(this.keys.environments(), envId));
    if (envRaw === null || rev === null) throw new DroverError("NotFound", `environment ${envId} not found`, { field: "envId" });
    const parseAll = <T extends { id: string; createdAt?: string }>(raws: string[], what: string) =>
      raws.map((raw) => parseStored<T>(raw, what)).sort(byCreation);
    const certs = parseAll<CertificateRecord>(certificates, "certificate");
    if (this.keyring && certs.some((c) => typeof c.key === "string" && !isSealed(c.key))) {
      // Stored before keys were sealed: the reconciler works with the sealed form, as with every newer one.
      const envKey = await this.keyring.envKey(envId);
      for (const c of certs) if (typeof c.key === "string" && !isSealed(c.key)) c.key = seal(envKey, secretContext.certificateKey(c.id), c.key);
    }
    return {
      env: parseStored<EnvironmentRecord>(envRaw, "environment"),
      rev: Number(rev),
      hosts: parseAll(hosts, "host"),
      stacks: parseAll(stacks, "stack"),
      services: parseAll(services, "service"),
      instances: parseAll(instances, "instance"),
      loadBalancers: parseAll(loadBalancers, "load balancer"),
      certificates: certs,
    };
  }

  async get<K extends RecordKind>(envId: string, kind: K, id: string): Promise<RecordOf<K> | undefined> {
    const hash = recordHash(this.keys.env(envId), kind);
    const raw = await withRedis(() => this.redis.hget(hash, id));
    return parseStoredOrUndefined<RecordOf<K>>(raw, kind);
  }

  async list<K extends RecordKind>(envId: string, kind: K): Promise<RecordOf<K>[]> {
    const hash = recordHash(this.keys.env(envId), kind);
    const raws = await withRedis(() => this.redis.hvals(hash));
    return raws.map((raw) => parseStored<RecordOf<K>>(raw, kind)).sort(byCreation);
  }

  async getMany<K extends RecordKind>(envId: string, kind: K, ids: string[]): Promise<(RecordOf<K> | undefined)[]> {
    if (ids.length === 0) return [];
    const hash = recordHash(this.keys.env(envId), kind);
    const raws = await withRedis(() => this.redis.hmget(hash, ...ids));
    return raws.map((raw) => parseStoredOrUndefined<RecordOf<K>>(raw, kind));
  }

  async observeInstances(envId: string, records: InstanceRecord[], opts: { fence?: number } = {}): Promise<number> {
    const env = this.keys.env(envId);
    let batch: WriteBatch = { put: records.map((record) => ({ kind: "instance" as const, record })) };
    if (this.keyring) batch = await sealRecordSecrets(batch, () => this.keyring!.envKey(envId));
    const args = [optionalInteger(opts.fence, "fence", 1), String(records.length)];
    for (const { record } of batch.put!) {
      if (!Number.isInteger(record.rev)) throw new DroverError("InvalidField", `instance ${record.id}: rev (the revision it was read at) must be an integer`, { field: "rev" });
      args.push(record.id, String(record.rev), jsonWithout(record, "rev"));
    }
    const reply = scriptReply(await withRedis(() => runScript(this.redis, observeInstancesScript, [env.rev, env.leader, env.events, env.instances, env.recordsKeptRun], args)));
    if (reply.status === "REV_MISMATCH") {
      throw new DroverError("RevisionMismatch", `update instances of ${envId} from a report: instance ${String(reply.details[0])} changed or went since it was read`, { retryable: true });
    }
    if (reply.status !== "OK") throw scriptRefusal(reply.status, reply.details, `update instances of ${envId} from a report`);
    await this.confirmWrites();
    return Number(reply.details[0]);
  }

  async write(envId: string, batch: WriteBatch, opts: WriteOptions = {}): Promise<number> {
    return (await this.writeOn(envId, batch, opts)).rev;
  }

  async writeOn(envId: string, batch: WriteBatch | PreparedWrite, opts: WriteOptions = {}): Promise<{ rev: number; onRev: number }> {
    const call = isPreparedWrite(batch) ? batch : await this.prepareWrite(envId, batch);
    if (call.envId !== envId) throw new DroverError("Internal", `a write prepared for ${call.envId} sent to ${envId}`);
    const args = [...writeOptionArgs(opts), ...call.args];
    const reply = scriptReply(await withRedis(() => runScript(this.redis, writeScript, call.keys, args)));
    if (reply.status !== "OK") throw scriptRefusal(reply.status, reply.details, `write to ${envId}`);
    await this.confirmWrites();
    return { rev: Number(reply.details[0]), onRev: Number(reply.details[1]) };
  }

  async prepareWrite(envId: string, batch: WriteBatch): Promise<PreparedWrite> {
    if (this.keyring) batch = await sealRecordSecrets(batch, () => this.keyring!.envKey(envId));
    return { prepared: true, envId, ...writeBatchArgs(this.keys, envId, batch) };
  }

  async revokedHostKey(envId: string, identityKey: string): Promise<string | undefined> {
    return (await withRedis(() => this.redis.hget(this.keys.env(envId).revokedHostKeys, identityKey))) ?? undefined;
  }

  async hostOfMachine(envId: string, machineId: string): Promise<HostRecord | undefined> {
    const env = this.keys.env(envId);
    const hostId = await withRedis(() => this.redis.hget(env.hostMachines, machineId));
    if (hostId === null) {
      // No index entry: a machine never seen, or hosts stored before the index existed, which
      // the register script indexes on its first run; until then, look through the hosts.
      if (await withRedis(() => this.redis.exists(env.hostMachines)) === 1) return undefined;
      return (await this.list(envId, "host")).find((h) => h.machineId === machineId);
    }
    const host = await this.get(envId, "host", hostId);
    return host?.machineId === machineId ? host : undefined;
  }

  async registerHost(envId: string, record: HostRecord, expected: HostRecord | undefined): Promise<number> {
    const env = this.keys.env(envId);
    this.keys.host(envId, record.id); // host ids become key names
    if (!record.machineId) throw new DroverError("MissingField", `host ${record.id} has no machineId`, { field: "machineId" });
    const machineId = record.machineId;
    const reply = scriptReply(await withRedis(() => runScript(this.redis, registerHostScript,
      [env.rev, env.events, env.reconcile, env.hosts, env.hostNames, env.hostMachines, env.creationRun, env.recordsKeptRun],
      [machineId, expected?.id ?? "", expected ? String(expected.rev) : "", jsonWithout(record, "rev")])));
    if (reply.status === "STALE") {
      throw new DroverError("RevisionMismatch", `register host ${record.id}: the machine's host record changed meanwhile`, { retryable: true });
    }
    if (reply.status !== "OK") throw scriptRefusal(reply.status, reply.details, `register host ${record.id}`);
    // The host's stats stream is made here, never by its agent: agents append with NOMKSTREAM,
    // so an agent still running after its host was removed cannot bring the stream back. An
    // entry without a sample is skipped by every reader.
    await withRedis(() => this.redis.xadd(this.keys.host(envId, record.id).stats, "MAXLEN", "~", String(statsHistoryLength), "*", "registered", String(reply.details[0])));
    await this.confirmWrites();
    return Number(reply.details[0]);
  }

  // Host users

  async provisionHostUser(envId: string, hostId: string, password: string): Promise<{ username: string }> {
    const user = await provisionHostUser(this.redis, this.keys, envId, hostId, password);
    await this.aclReplicas?.provision(user.username, hostUserAclRules(this.keys, envId, hostId, password));
    return user;
  }

  /**
   * After the purge script: a host removed before the purge is no longer in the hosts hash,
   * and its agent, running on for a moment after its keys were deleted, may have written one
   * again (a heartbeat, a stats sample). Every host user of the environment still in Redis
   * goes first (which also drops its connections), then every key under the environment's
   * hash tag.
   */
  private async sweepEnvironmentLeftovers(envId: string): Promise<void> {
    const userPrefix = hostUsernamePrefix(this.keys, envId);
    const users = (await withRedis(() => this.redis.call("ACL", "USERS")) as string[]).filter((u) => u.startsWith(userPrefix));
    for (const user of users) await this.removeHostUserEverywhere(envId, user.slice(userPrefix.length));
    // On Redis Cluster every key of the environment is on the primary serving its slot, but
    // which primary that is may change under a migration: each primary is scanned.
    for (const node of scanTargets(this.redis)) {
      let cursor = "0";
      do {
        const [next, found] = await withRedis(() => node.scan(cursor, "MATCH", this.keys.envPattern(envId), "COUNT", 1000));
        if (found.length) await withRedis(() => this.redis.del(...found));
        cursor = next;
      } while (cursor !== "0");
    }
  }

  private async removeHostUserEverywhere(envId: string, hostId: string): Promise<void> {
    await removeHostUser(this.redis, this.keys, envId, hostId);
    await this.aclReplicas?.remove(hostUsername(this.keys, envId, hostId));
  }

  /**
   * With replicas: waits until every write this store's connection made has reached them
   * (WAIT); "Unavailable" if not in time. Without replicas, nothing to wait for.
   */
  async confirmWrites(): Promise<void> {
    if (!this.waitReplicas) return;
    const { count, timeoutMs } = this.waitReplicas;
    if (this.redis.isCluster) {
      this.clusterWaiter ??= new ClusterWaiter(this.redis as unknown as Cluster);
      const waiter = this.clusterWaiter;
      const short = await withRedis(() => waiter.wait(count, timeoutMs));
      if (short.length === 0) return;
      throw new DroverError("Unavailable", `the write reached ${short.map((s) => `${s.acked} of ${s.wanted} replicas of ${s.node}`).join(", ")} in ${timeoutMs} ms, so a failover could lose it: reported failed (it may still be applied)`, { retryable: true });
    }
    const acked = await withRedis(async () => (this.replicaWait ? this.replicaWait.confirm() : Number(await this.redis.call("WAIT", count, timeoutMs))));
    if (acked < count) {
      throw new DroverError("Unavailable", `the write reached ${acked} of ${count} Redis replicas in ${timeoutMs} ms, so a failover could lose it: reported failed (it may still be applied)`, { retryable: true });
    }
  }

  async removeHostUser(envId: string, hostId: string): Promise<void> {
    await this.removeHostUserEverywhere(envId, hostId);
    // The host's secrets key goes with its credentials: nothing is sealed for it any more.
    await this.keyring?.removeHostKey(envId, hostId);
  }

  // Per-host documents

  async setDesired(envId: string, desired: HostDesiredState, opts: { fence?: number } = {}): Promise<number> {
    desired = await this.sealForHost(envId, desired);
    const envKeys = this.keys.env(envId);
    const host = this.keys.host(envId, desired.hostId);
    const generation = await this.script(setDesiredScript, `set desired state of host ${desired.hostId}`,
      [envKeys.rev, envKeys.hosts, envKeys.leader, host.desired, host.nudges],
      [desired.hostId, jsonWithout(desired, "generation"), optionalInteger(opts.fence, "fence", 1)]);
    return Number(generation);
  }

  async getIpsec(envId: string): Promise<IpsecSpec | undefined> {
    const raw = await withRedis(() => this.redis.get(this.keys.env(envId).psk));
    const spec = parseStoredOrUndefined<IpsecSpec>(raw, "pre-shared key");
    if (spec && this.keyring && !isSealed(spec.psk)) {
      // Stored before keys were sealed: sealed now, in place (a plain SET: same id, same key).
      const sealed = { ...spec, psk: seal(await this.keyring.envKey(envId), secretContext.psk(spec.pskId), spec.psk) };
      await withRedis(() => this.redis.set(this.keys.env(envId).psk, JSON.stringify(sealed), "XX"));
      return sealed;
    }
    return spec;
  }

  /** `spec.psk` in the clear (or already sealed); stored sealed when the store has a keyring. */
  async setIpsec(envId: string, spec: IpsecSpec, opts: { onlyIfAbsent?: boolean } = {}): Promise<boolean> {
    if (this.keyring && !isSealed(spec.psk)) spec = { ...spec, psk: seal(await this.keyring.envKey(envId), secretContext.psk(spec.pskId), spec.psk) };
    const env = this.keys.env(envId);
    const reply = scriptReply(await withRedis(() => runScript(this.redis, setIpsecScript,
      [env.rev, env.psk, env.reconcile], [JSON.stringify(spec), opts.onlyIfAbsent ? "absent" : ""])));
    if (reply.status === "EXISTS") return false;
    if (reply.status !== "OK") throw scriptRefusal(reply.status, reply.details, `set the pre-shared key of environment ${envId}`);
    await this.confirmWrites();
    return true;
  }

  async getDns(envId: string): Promise<EnvDnsDocument | undefined> {
    const raw = await withRedis(() => this.redis.get(this.keys.env(envId).dns));
    return parseStoredOrUndefined<EnvDnsDocument>(raw, "dns document");
  }

  async setDns(envId: string, directory: DnsDirectory, hostIds: string[], opts: { fence?: number } = {}): Promise<number> {
    const env = this.keys.env(envId);
    const version = await this.script(setDnsScript, `set the dns document of environment ${envId}`,
      [env.rev, env.leader, env.dns, ...hostIds.map((h) => this.keys.host(envId, h).nudges)],
      [optionalInteger(opts.fence, "fence", 1), JSON.stringify({ directory })]);
    return Number(version);
  }

  async getDesired(envId: string, hostId: string): Promise<HostDesiredState | undefined> {
    const raw = await withRedis(() => this.redis.get(this.keys.host(envId, hostId).desired));
    const doc = parseStoredOrUndefined<HostDesiredState>(raw, "desired state");
    return doc && this.keyring ? this.sealForEnvironment(envId, doc) : doc;
  }

  /**
   * The document's secrets, sealed with the environment's key (as records hold them),
   * resealed with the host's own key: only that host's agent can open them.
   */
  private async sealForHost(envId: string, desired: HostDesiredState): Promise<HostDesiredState> {
    if (!this.keyring || !hasSecrets(desired)) return desired;
    const hostKey = await this.keyring.hostKey(envId, desired.hostId);
    if (!hostKey) {
      throw new DroverError("Conflict", `host ${desired.hostId} has no secrets key (it registered with a server without one): remove it and register it again`);
    }
    const envKey = await this.keyring.envKey(envId);
    return resealDesired(desired, (context, value) => this.hostSealings.get(`${hostKey.id}\0${envKey.id}\0${context}\0${value}`,
      () => seal(hostKey, context, isSealed(value) ? unseal(envKey, context, value) : value)));
  }

  /**
   * The reverse of sealForHost, so the reconciler compares the stored document with the one
   * it plans (sealing is deterministic). A value that no longer opens (the host's key
   * changed) reads as unreadable, so the document differs and is written again.
   */
  private async sealForEnvironment(envId: string, doc: HostDesiredState): Promise<HostDesiredState> {
    if (!hasSecrets(doc)) return doc;
    const hostKey = await this.keyring!.hostKey(envId, doc.hostId);
    const envKey = await this.keyring!.envKey(envId);
    return resealDesired(doc, (context, value) => {
      if (!hostKey || !isSealed(value) || sealedKeyId(value) !== hostKey.id) return "(unreadable)";
      try {
        return seal(envKey, context, unseal(hostKey, context, value));
      } catch {
        return "(unreadable)";
      }
    });
  }

  async getObserved(envId: string, hostId: string): Promise<HostObservedState | undefined> {
    const raw = await withRedis(() => this.redis.get(this.keys.host(envId, hostId).observed));
    return parseStoredOrUndefined<HostObservedState>(raw, "observed state");
  }

  async dockerDisk(envId: string, hostIds: string[]): Promise<Record<string, DockerDiskSpace | undefined>> {
    if (hostIds.length === 0) return {};
    const pipeline = this.redis.pipeline();
    for (const hostId of hostIds) pipeline.xrevrange(this.keys.host(envId, hostId).stats, "+", "-", "COUNT", 1);
    const results = await withRedis(async () => (await pipeline.exec()) ?? []);
    const out: Record<string, DockerDiskSpace | undefined> = {};
    hostIds.forEach((hostId, i) => {
      const [err, entries] = results[i] ?? [new Error("missing reply"), undefined];
      if (err) throw toDroverError(err);
      const [latest] = (entries as Array<[string, string[]]> | undefined) ?? [];
      out[hostId] = latest ? dockerDiskOfEntry(latest[1]) : undefined;
    });
    return out;
  }

  async heartbeats(envId: string, hostIds: string[]): Promise<Record<string, number | undefined>> {
    if (hostIds.length === 0) return {};
    const pipeline = this.redis.pipeline();
    for (const hostId of hostIds) pipeline.pttl(this.keys.host(envId, hostId).heartbeat);
    const results = await withRedis(async () => (await pipeline.exec()) ?? []);
    const ttls: Record<string, number | undefined> = {};
    hostIds.forEach((hostId, i) => {
      const [err, ttl] = results[i] ?? [new Error("missing reply"), undefined];
      if (err) throw toDroverError(err);
      ttls[hostId] = ttl === -2 ? undefined : ttl === -1 ? Infinity : Number(ttl);
    });
    return ttls;
  }

  /** Runs a script whose reply is `{'OK', value}` or a refusal, and returns the value. */
  private async script(script: LuaScript, subject: string, keys: string[], args: string[]): Promise<unknown> {
    const reply = scriptReply(await withRedis(() => runScript(this.redis, script, keys, args)));
    if (reply.status !== "OK") throw scriptRefusal(reply.status, reply.details, subject);
    await this.confirmWrites();
    return reply.details[0];
  }
}
