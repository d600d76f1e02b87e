/**
 * One API server per test: a RedisStore on a unique key prefix of the shared test Redis,
 * createApi() on 127.0.0.1:0, and an HTTP client. At teardown the server closes and every
 * key and ACL user under the prefix is deleted.
 */
import { keysUnder, pollUntil } from "../store/store-fixture";
export { pollUntil };
import { randomBytes } from "crypto";
import { request } from "http";
import Redis from "ioredis";
import type { Test } from "tap";
import { startApiServer } from "../../../runtime/api";
import { makeKeys } from "../../../runtime/protocol/keys";
import { RedisStore } from "../../../runtime/store/redis-store";
import { Keyring } from "../../../runtime/secrets/keyring";

export const redisUrl = process.env.DROVER_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** The tests' master key (a fixed one is fine: every key under a test's prefix is deleted at teardown). */
export const testMasterKey = { id: "mtest", key: Buffer.alloc(32, 0x5a) };

type Tap = Pick<Test, "teardown" | "same">;

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // Tests look into JSON bodies freely.
  body: any;
  text: string;
}

export interface CallOptions {
  key?: string;
  body?: unknown;
  /** Sent as is (for malformed JSON and oversized bodies). */
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

export interface CreatedEnv {
  id: string;
  apiKey: string;
  registrationToken: string;
  body: any;
}

export interface ApiFixture {
  url: string;
  prefix: string;
  adminKey: string;
  store: RedisStore;
  keyring: Keyring;
  redis: Redis;
  call(method: string, path: string, opts?: CallOptions): Promise<Reply>;
  createEnv(name?: string): Promise<CreatedEnv>;
  /** Every key under the prefix with its content, plus the prefix's ACL users: "Redis as it is". */
  dump(): Promise<unknown>;
  /** Runs `fn` and checks that neither the env snapshot nor any key under the prefix changed. */
  unchanged(envIds: string[], what: string, fn: () => Promise<unknown>): Promise<void>;
}

export const registration = {
  redisUrl,
  heartbeatIntervalMs: 1000,
  heartbeatTtlMs: 5000,
  resyncIntervalMs: 30000,
};

export async function apiFixture(t: Tap, opts: { eventsBlockMs?: number; eventStreamsPerKey?: number } = {}): Promise<ApiFixture> {
  const prefix = `tapi-${randomBytes(5).toString("hex")}`;
  const keys = makeKeys(prefix);
  // Named after the prefix, so CLIENT LIST shows this test's connections (the event readers too).
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, connectionName: prefix });
  const keyring = new Keyring(redis, keys, testMasterKey);
  const store = new RedisStore(redis, keys, { keyring });
  const adminKey = `admin-${randomBytes(16).toString("hex")}`;
  const server = await startApiServer({
    store,
    keyring,
    adminKey,
    registration: { ...registration, keyPrefix: prefix },
    eventsBlockMs: opts.eventsBlockMs,
    eventStreamsPerKey: opts.eventStreamsPerKey,
    log: () => {},
  }, { host: "127.0.0.1", port: 0 });
  t.teardown(async () => {
    await server.close();
    await deleteUnderPrefix(redis, prefix);
    redis.disconnect();
  });

  const call = (method: string, path: string, o: CallOptions = {}) => httpCall(server.url, method, path, o);
  const dump = () => dumpPrefix(redis, prefix);
  const f: ApiFixture = {
    url: server.url,
    prefix,
    adminKey,
    store,
    keyring,
    redis,
    call,
    async createEnv(name = `env-${randomBytes(3).toString("hex")}`) {
      const r = await call("POST", "/v1/environments", { key: adminKey, body: { name } });
      if (r.status !== 201) throw new Error(`creating an environment: ${r.status} ${r.text}`);
      return { id: r.body.id, apiKey: r.body.apiKey, registrationToken: r.body.registrationToken, body: r.body };
    },
    dump,
    async unchanged(envIds, what, fn) {
      const state = async () => ({
        snapshots: await Promise.all(envIds.map(async (id) => {
          const s = await store.snapshot(id);
          return { rev: s.rev, env: s.env, hosts: s.hosts, stacks: s.stacks, services: s.services, instances: s.instances };
        })),
        keys: await dump(),
      });
      const before = await state();
      await fn();
      t.same(await state(), before, `${what}: Redis unchanged`);
    },
  };
  return f;
}

export function httpCall(base: string, method: string, path: string, o: CallOptions = {}): Promise<Reply> {
  const url = new URL(path, base);
  const payload = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  const headers: Record<string, string | number> = { ...o.headers };
  if (o.key !== undefined) headers.authorization = `Bearer ${o.key}`;
  if (payload !== undefined) {
    headers["content-type"] ??= "application/json";
    if (headers["transfer-encoding"] === undefined) headers["content-length"] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}


async function dumpPrefix(redis: Redis, prefix: string): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const key of await keysUnder(redis, `${prefix}:*`)) {
    const type = await redis.type(key);
    switch (type) {
      case "string": out[key] = await redis.get(key); break;
      case "hash": out[key] = await redis.hgetall(key); break;
      case "set": out[key] = (await redis.smembers(key)).sort(); break;
      case "zset": out[key] = await redis.zrange(key, 0, -1, "WITHSCORES"); break;
      case "list": out[key] = await redis.lrange(key, 0, -1); break;
      case "stream": out[key] = await redis.xrange(key, "-", "+"); break;
      default: out[key] = type;
    }
  }
  const users = ((await redis.call("ACL", "USERS")) as string[]).filter((u) => u.startsWith(`${prefix}-`)).sort();
  return { keys: out, users };
}

async function deleteUnderPrefix(redis: Redis, prefix: string): Promise<void> {
  for (const key of await keysUnder(redis, `${prefix}:*`)) await redis.del(key);
  const users = (await redis.call("ACL", "USERS")) as string[];
  for (const user of users.filter((u) => u.startsWith(`${prefix}-`))) await redis.call("ACL", "DELUSER", user);
}


/** A stack and a service in a fresh environment, for tests that need something to work on. */
export async function seedEnv(f: ApiFixture, name?: string) {
  const env = await f.createEnv(name);
  const stack = await f.call("POST", `/v1/environments/${env.id}/stacks`, { key: env.apiKey, body: { name: "web" } });
  if (stack.status !== 201) throw new Error(`creating a stack: ${stack.status} ${stack.text}`);
  const service = await f.call("POST", `/v1/environments/${env.id}/services`, {
    key: env.apiKey,
    body: { stackId: stack.body.id, name: "nginx", image: "nginx:1.25", ports: [{ containerPort: 80, hostPort: 8080 }] },
  });
  if (service.status !== 201) throw new Error(`creating a service: ${service.status} ${service.text}`);
  return { env, stack: stack.body, service: service.body };
}
