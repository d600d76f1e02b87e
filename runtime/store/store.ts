import type {
  EnvironmentRecord, HostDesiredState, HostObservedState, HostRecord, InstanceRecord,
  ServiceRecord, StackRecord,
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
  /** Deletes every key of the environment (after teardown finished). */
  purgeEnvironment(envId: string): Promise<void>;

  /** A consistent read of everything the reconciler needs for one environment. */
  snapshot(envId: string): Promise<EnvSnapshot>;

  // Generic records within an environment (hosts, stacks, services, instances)
  get<K extends RecordKind>(envId: string, kind: K, id: string): Promise<RecordOf<K> | undefined>;
  list<K extends RecordKind>(envId: string, kind: K): Promise<RecordOf<K>[]>;
  /**
   * Writes records and deletions atomically. Fails with DroverError("RevisionMismatch") when
   * `expectRev` is given and the environment moved on, and with "Conflict" when a name index
   * is taken. Returns the new environment revision. With `fence`, also fails ("NotLeader")
   * unless the environment's current leader fence equals it.
   */
  write(envId: string, batch: WriteBatch, opts?: { expectRev?: number; fence?: number }): Promise<number>;

  // Per-host Redis ACL users (one per agent, confined to its host's keys)
  /** Creates or resets the host's ACL user `<prefix>-host-<envId>-<hostId>` with this password. */
  provisionHostUser(envId: string, hostId: string, password: string): Promise<{ username: string }>;
  removeHostUser(envId: string, hostId: string): Promise<void>;

  // Per-host documents
  setDesired(envId: string, desired: HostDesiredState, opts: { fence?: number }): Promise<void>;
  getDesired(envId: string, hostId: string): Promise<HostDesiredState | undefined>;
  getObserved(envId: string, hostId: string): Promise<HostObservedState | undefined>;
  /** Milliseconds until each host's heartbeat key expires (absent = no heartbeat). */
  heartbeats(envId: string, hostIds: string[]): Promise<Record<string, number | undefined>>;
}

export type RecordKind = "host" | "stack" | "service" | "instance";
export type RecordOf<K extends RecordKind> =
  K extends "host" ? HostRecord : K extends "stack" ? StackRecord : K extends "service" ? ServiceRecord : InstanceRecord;

export interface WriteBatch {
  put?: { kind: RecordKind; record: HostRecord | StackRecord | ServiceRecord | InstanceRecord }[];
  remove?: { kind: RecordKind; id: string }[];
}

export interface EnvSnapshot {
  env: EnvironmentRecord;
  rev: number;
  hosts: HostRecord[];
  stacks: StackRecord[];
  services: ServiceRecord[];
  instances: InstanceRecord[];
}
