import { waitFor } from "../../support/wait";
import { randomBytes } from "crypto";
import Redis, { type RedisOptions } from "ioredis";
import { DroverError, isDroverError } from "../../../runtime/protocol/errors";
import type { EnvironmentRecord, HostRecord, InstanceRecord, ServiceRecord, StackRecord } from "../../../runtime/protocol/model";
import { makeKeys, type Keys } from "../../../runtime/protocol/keys";
import { LeaderLease } from "../../../runtime/store/leader-lease";
import { RedisStore } from "../../../runtime/store/redis-store";

/** The shared test Redis (scripts/setup.sh). */
export const redisUrl = process.env.DROVER_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export interface Teardownable { teardown(fn: () => unknown): void }

export interface StoreFixture {
  prefix: string;
  keys: Keys;
  /** Admin connection (the server's view). */
  redis: Redis;
  store: RedisStore;
  lease: LeaderLease;
  /** Another admin connection, closed at teardown. */
  connect(): Redis;
}

/**
 * A store on its own key prefix; at teardown every key under the prefix and every ACL user
 * named after it are deleted. (Tests may SCAN; product code never does.)
 */
export function storeFixture(t: Teardownable, target: string | RedisOptions = redisUrl): StoreFixture {
  const prefix = `t-${randomBytes(5).toString("hex")}`;
  const keys = makeKeys(prefix);
  const clients: Redis[] = [];
  const connect = () => {
    const client = typeof target === "string"
      ? new Redis(target, { maxRetriesPerRequest: 1 })
      : new Redis({ ...target, maxRetriesPerRequest: 1 });
    clients.push(client);
    return client;
  };
  const redis = connect();
  t.teardown(async () => {
    await deleteUnderPrefix(redis, prefix);
    for (const client of clients) client.disconnect();
  });
  return { prefix, keys, redis, store: new RedisStore(redis, keys), lease: new LeaderLease(redis, keys), connect };
}

export async function deleteUnderPrefix(redis: Redis, prefix: string): Promise<void> {
  for (const key of await keysUnder(redis, `${prefix}:*`)) await redis.del(key);
  const users = (await redis.call("ACL", "USERS")) as string[];
  for (const user of users.filter((u) => u.startsWith(`${prefix}-`))) await redis.call("ACL", "DELUSER", user);
}

/** Every key matching a glob, by SCAN (test-only). */
export async function keysUnder(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    found.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  return found.sort();
}

/** Awaits `promise`, requires a DroverError with this code, and returns it for further checks. */
export async function droverError(promise: Promise<unknown>, code: DroverError["code"]): Promise<DroverError> {
  try {
    await promise;
  } catch (err) {
    if (isDroverError(err) && err.code === code) return err;
    throw new Error(`expected DroverError ${code}, got ${err instanceof Error ? `${err.name} ${(err as DroverError).code ?? ""}: ${err.message}` : String(err)}`);
  }
  throw new Error(`expected DroverError ${code}, but it succeeded`);
}

/** Polls `check` until it returns true, failing after `timeoutMs`: test/support/wait.ts with this file's argument order. */
export async function pollUntil(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  await waitFor(check, { what, timeoutMs, intervalMs: 5, maxIntervalMs: 100 });
}

/** Stream entries as {id, fields} objects. */
export async function streamEntries(redis: Redis, key: string): Promise<{ id: string; fields: Record<string, string> }[]> {
  const entries = await redis.xrange(key, "-", "+");
  return entries.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
    return { id, fields };
  });
}

// Records (cast: the model is still growing optional/derived fields the store does not care about)

const createdAt = "2024-01-01T00:00:00.000Z";

export function envRecord(id: string): Omit<EnvironmentRecord, "rev"> {
  return { id, name: `env ${id}`, network: { cidr: "10.42.0.0/16", hostSubnetPrefix: 24 }, state: "active", createdAt };
}

export async function createEnv(f: StoreFixture, id = "e1"): Promise<EnvironmentRecord> {
  return f.store.createEnvironment(envRecord(id), `apikey-${id}`, `token-${id}`);
}

export function host(envId: string, id: string, name = `host-${id}`, extra: Partial<HostRecord> = {}): HostRecord {
  return { id, envId, name, labels: {}, state: "active", deactivated: false, createdAt, rev: 0, ...extra } as HostRecord;
}

export function stack(envId: string, id: string, name = `stack-${id}`, extra: Partial<StackRecord> = {}): StackRecord {
  return { id, envId, name, state: "active", createdAt, rev: 0, ...extra } as StackRecord;
}

export function service(envId: string, id: string, stackId: string, name = `svc-${id}`, extra: Partial<ServiceRecord> = {}): ServiceRecord {
  return {
    id, envId, stackId, name, specVersion: 1, state: "active", createdAt, rev: 0,
    spec: {
      image: "nginx:1.25", env: {}, ports: [], scale: 1, global: false, links: {}, labels: {},
      restartPolicy: { name: "always" },
    },
    ...extra,
  } as ServiceRecord;
}

export function instance(envId: string, id: string, serviceId: string, stackId: string, hostId: string): InstanceRecord {
  return {
    id, envId, serviceId, stackId, hostId, name: `s-${serviceId}-1`, index: 1, specVersion: 1, state: "requested", createdAt, rev: 0,
    spec: { image: "nginx:1.25", env: {}, ports: [], labels: {}, restartPolicy: { name: "always" } },
  } as InstanceRecord;
}
