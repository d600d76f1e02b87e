import type { DnsDirectory, EnvDnsDocument } from "../protocol/dns";
import type { DockerDiskSpace } from "../protocol/stats";
import type {
  CertificateRecord, EnvironmentRecord, EnvironmentState, HostDesiredState, HostObservedState, HostRecord, InstanceRecord,
  IpsecSpec, LoadBalancerRecord, ReconcileError, ServiceRecord, StackRecord,
} from "../protocol/model";

/**
 * The server's view of Redis. Every method that writes is one Lua script (atomic, checked
 * against the environment revision where the caller passes `expectRev`) and appends a
 * change event to the environment's event stream in the same script.
 * Implementations: RedisStore (runtime/store/redis-store.ts).
 */
export interface Store {
  // Environments (admin)
  createEnvironment(env: Omit<EnvironmentRecord, "rev">, apiKeyHash: string, tokenHash: string): Promise<EnvironmentRecord>;
  getEnvironment(envId: string): Promise<EnvironmentRecord | undefined>;
  listEnvironments(): Promise<EnvironmentRecord[]>;
  /** Resolves an API key hash to its environment id. */
  envIdForApiKey(apiKeyHash: string): Promise<string | undefined>;
  envIdForRegistrationToken(tokenHash: string): Promise<string | undefined>;
  addRegistrationToken(envId: string, tokenHash: string, meta: Record<string, string>): Promise<void>;
  /** The environment's registration tokens (hash and the meta given at creation; `{}` for the first one). */
  listRegistrationTokens(envId: string): Promise<Array<{ tokenHash: string; meta: Record<string, string> }>>;
  /**
   * Sets the environment's state (the API's teardown sets "removing"), bumps its revision and
   * nudges the reconciler and the event stream like write(). Undefined when there is no such env.
   */
  setEnvironmentState(envId: string, state: EnvironmentState): Promise<EnvironmentRecord | undefined>;
  /**
   * Records (or with undefined clears) why the reconciler's passes on this environment fail,
   * on the environment record (an `environment.updated` event; the API shows it).
   */
  setReconcileError(envId: string, error: ReconcileError | undefined): Promise<void>;
  /** Deletes every key of the environment (after teardown finished). */
  purgeEnvironment(envId: string): Promise<void>;

  /**
   * A reader of the environment's event stream on its own connection (it blocks in XREAD);
   * the API shares one per watched environment (runtime/api/event-hub.ts); the caller closes it.
   */
  openEventReader(envId: string): EventReader;
  /** Up to `count` entries of the environment's event stream after `afterId`, without blocking. */
  eventsAfter(envId: string, afterId: string, count: number): Promise<StoreEvent[]>;
  /** The environment's revision and its newest `count` events (newest first), read at one instant. */
  newestEvents(envId: string, count: number): Promise<{ rev: number; events: StoreEvent[] }>;
  /** Records by kind and id (undefined: absent) and the environment's revision, read at one instant. */
  recordsWithRev(envId: string, refs: ReadonlyArray<{ kind: RecordKind; id: string }>): Promise<{ rev: number; records: Array<RecordOf<RecordKind> | undefined> }>;

  /** A consistent read of everything the reconciler needs for one environment. */
  snapshot(envId: string): Promise<EnvSnapshot>;
  /**
   * The same read without some record lists, for writers whose checks never look at them: at
   * 25,000 instances reading and parsing them was most of an API write (creating a service or a
   * stack), and every attempt after a lost race paid it again; at 1,250 hosts the host records
   * were most of what was left.
   */
  snapshotWithout<K extends OmittableList>(envId: string, leaveOut: readonly K[]): Promise<SnapshotWithout<K>>;

  // Generic records within an environment (hosts, stacks, services, instances)
  get<K extends RecordKind>(envId: string, kind: K, id: string): Promise<RecordOf<K> | undefined>;
  list<K extends RecordKind>(envId: string, kind: K): Promise<RecordOf<K>[]>;
  /** Several records of one kind by id, in the order asked (undefined where there is none): one HMGET. */
  getMany<K extends RecordKind>(envId: string, kind: K, ids: string[]): Promise<(RecordOf<K> | undefined)[]>;
  /**
   * Writes records and deletions atomically. Fails with DroverError("RevisionMismatch") when
   * `expectRev` is given and the environment moved on, and with "Conflict" when a name index
   * is taken. Returns the new environment revision. With `fence`, also fails ("NotLeader")
   * unless the environment's current leader fence equals it.
   */
  write(envId: string, batch: WriteBatch, opts?: WriteOptions): Promise<number>;
  /**
   * write, also saying which revision the batch was applied on (`onRev`): expectRev, or a later
   * one when `creationsSince` let it through after other writers' creations.
   */
  writeOn(envId: string, batch: WriteBatch | PreparedWrite, opts?: WriteOptions): Promise<{ rev: number; onRev: number }>;
  /**
   * The batch checked and turned into what `writeOn` sends (its records' texts), ahead of the
   * write: a pass writing in steps makes the next step's while the last is in Redis
   * (chunked-write.ts). Fails as writeOn would on a bad record.
   */
  prepareWrite(envId: string, batch: WriteBatch): Promise<PreparedWrite>;
  /**
   * The incremental reconcile's write: instance records updated from an agent's report, each
   * carrying the `rev` it was read at. All or nothing: fails "RevisionMismatch" when one of
   * them changed or went since, "NotLeader" like `write`. One change event per record and a
   * new environment revision, but no reconcile nudge (the write settles what it writes).
   * Returns the new revision.
   */
  observeInstances(envId: string, records: InstanceRecord[], opts: { fence?: number }): Promise<number>;

  // Per-host Redis ACL users (one per agent, confined to its host's keys)
  /**
   * The host record a machine registered as (through the machine index; no full read of the
   * environment), or undefined for a machine the environment does not know.
   */
  hostOfMachine(envId: string, machineId: string): Promise<HostRecord | undefined>;
  /** The id of the removed host whose identity key (SPKI PEM) this is: the key is revoked. Undefined for a key not revoked. */
  revokedHostKey(envId: string, identityKey: string): Promise<string | undefined>;
  /**
   * Puts one host record for a registration: a compare-and-set on what hostOfMachine
   * returned (`expected`: that record, or undefined for a new machine). Returns the new rev;
   * "RevisionMismatch" (retryable) when the machine's record changed since, "Conflict" for a name held
   * by another host, "NotFound" for an environment that is gone.
   */
  registerHost(envId: string, record: HostRecord, expected: HostRecord | undefined): Promise<number>;
  /** With Redis replicas: resolves once this store's writes so far reached them ("Unavailable" otherwise). */
  confirmWrites(): Promise<void>;
  /** Creates or resets the host's ACL user `<prefix>-host-<envId>-<hostId>` with this password. */
  provisionHostUser(envId: string, hostId: string, password: string): Promise<{ username: string }>;
  removeHostUser(envId: string, hostId: string): Promise<void>;

  // Per-host documents
  /**
   * Replaces the host's desired document and nudges its agent. The stored generation is the
   * previous one + 1 whatever `desired.generation` says; returns it. Fails "NotFound" for a
   * host the environment does not know and "NotLeader" like `write` when `fence` is given.
   */
  setDesired(envId: string, desired: HostDesiredState, opts: { fence?: number }): Promise<number>;
  getDesired(envId: string, hostId: string): Promise<HostDesiredState | undefined>;
  /** The environment's pre-shared key, if one was set. */
  getIpsec(envId: string): Promise<IpsecSpec | undefined>;
  /** Sets (or with onlyIfAbsent, only creates) the key and wakes the reconciler; false when onlyIfAbsent found one. */
  setIpsec(envId: string, spec: IpsecSpec, opts?: { onlyIfAbsent?: boolean }): Promise<boolean>;
  getDns(envId: string): Promise<EnvDnsDocument | undefined>;
  /** Writes the DNS document (version + 1) and sends a `dns` nudge to each host. Returns the version. */
  setDns(envId: string, directory: DnsDirectory, hostIds: string[], opts: { fence?: number }): Promise<number>;
  getObserved(envId: string, hostId: string): Promise<HostObservedState | undefined>;
  /**
   * Milliseconds until each host's heartbeat key expires (absent = no heartbeat; a key
   * without a TTL, which agents never write, reads as Infinity).
   */
  heartbeats(envId: string, hostIds: string[]): Promise<Record<string, number | undefined>>;
  /**
   * Space on each host's Docker data root from its agent's latest stats sample (absent: the
   * host has no sample with the figure yet). What the scheduler avoids full hosts by.
   */
  dockerDisk(envId: string, hostIds: string[]): Promise<Record<string, DockerDiskSpace | undefined>>;
}

export type RecordKind = "host" | "stack" | "service" | "instance" | "loadBalancer" | "certificate";
export type RecordOf<K extends RecordKind> =
  K extends "host" ? HostRecord : K extends "stack" ? StackRecord : K extends "service" ? ServiceRecord
    : K extends "loadBalancer" ? LoadBalancerRecord : K extends "certificate" ? CertificateRecord : InstanceRecord;

export interface WriteBatch {
  put?: { kind: RecordKind; record: HostRecord | StackRecord | ServiceRecord | InstanceRecord | LoadBalancerRecord | CertificateRecord }[];
  remove?: { kind: RecordKind; id: string }[];
}

/** A batch made ready to write (Store.prepareWrite): the store's own form, for one environment. */
export interface PreparedWrite {
  readonly prepared: true;
  readonly envId: string;
  readonly keys: readonly string[];
  readonly args: readonly string[];
}

export function isPreparedWrite(batch: WriteBatch | PreparedWrite): batch is PreparedWrite {
  return (batch as PreparedWrite).prepared === true;
}

export interface WriteOptions {
  /** Refuse the write (RevisionMismatch) when the environment's revision is no longer this. */
  expectRev?: number;
  /**
   * With expectRev: also write when the revision moved on only through writes that created
   * records (hosts registering, stacks and services created). For the reconcile pass: what it
   * planned from the older snapshot still holds (a new host or service asks for more work, which
   * the next pass does, and takes nothing away); a flood of registrations or API creations no
   * longer makes every long pass lose its race and start over. Any update or removal since
   * still refuses it.
   */
  creationsSince?: boolean;
  /**
   * With expectRev: also write when the revision moved on only through writes that changed no
   * record but instances (creations aside): the reconcile leader placing and writing agents'
   * reports back. For an API update that read no instance it relies on: the records it read
   * and changes are still as it read them. Any other update or removal since still refuses it.
   * Exclusive with creationsSince.
   */
  recordsKeptSince?: boolean;
  /** Refuse the write (NotLeader) unless the environment's leader lease carries this fence. */
  fence?: number;
}

export interface EnvSnapshot {
  env: EnvironmentRecord;
  rev: number;
  hosts: HostRecord[];
  stacks: StackRecord[];
  services: ServiceRecord[];
  instances: InstanceRecord[];
  /** Absent only in hand-made snapshots (tests); the store always fills it. */
  loadBalancers?: LoadBalancerRecord[];
  /** Absent only in hand-made snapshots (tests); the store always fills it. */
  certificates?: CertificateRecord[];
}

/** The record lists a snapshot may leave out (Store.snapshotWithout): the two that grow with the fleet. */
export type OmittableList = "instances" | "hosts";
/** What names and links refer to (stacks, services, load balancers, certificates), without hosts or instances. */
export type RefsSnapshot = Omit<EnvSnapshot, OmittableList>;
/** (RefsSnapshot spelled out too: a generic Omit alone hides every field from code generic in K.) */
export type SnapshotWithout<K extends OmittableList> = RefsSnapshot & Omit<EnvSnapshot, K>;
export type SnapshotWithoutInstances = SnapshotWithout<"instances">;

export interface EventReader {
  /** Id of the stream's newest entry ("0-0" when empty): reading after it yields only new events. */
  latestId(): Promise<string>;
  /** Entries after `afterId`, waiting up to `blockMs` for one; [] on timeout. */
  read(afterId: string, blockMs: number): Promise<StoreEvent[]>;
  /** Closes the connection; a pending read then resolves [] or rejects. */
  close(): Promise<void>;
}

/** One entry of an environment's event stream. */
export interface StoreEvent {
  /** The stream entry id (the API sends it as the SSE event id). */
  id: string;
  /** The entry's fields as the store's scripts wrote them (values that hold JSON are left as strings). */
  fields: Record<string, string>;
}
