import type { RedisOptions } from "ioredis";

/**
 * Where Redis is, from a URL: one Redis (`redis://`, `rediss://`) or a Sentinel-watched
 * primary (`redis+sentinel://host:port,host:port/<master name>`, `rediss+sentinel://` for TLS
 * to the sentinels and the data nodes). The server and agents both take these, so what they
 * share lives here. Credentials in a URL are those of the data nodes (the sentinels are asked
 * without any: they hold no data, only addresses).
 */
export interface RedisTarget {
  tls: boolean;
  /** Set for Sentinel URLs: the sentinels to ask and the name of the primary they watch. */
  sentinel?: { nodes: { host: string; port: number }[]; name: string };
  /** Set for Redis Cluster URLs (`redis+cluster://h:p,h:p`): seed nodes; the client learns the rest (redis-client.ts). */
  cluster?: { nodes: { host: string; port: number }[] };
  /** One Redis (no sentinel). */
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  db: number;
}

const schemes: Record<string, { tls: boolean; sentinel: boolean; cluster?: true }> = {
  "redis:": { tls: false, sentinel: false },
  "rediss:": { tls: true, sentinel: false },
  "redis+sentinel:": { tls: false, sentinel: true },
  "rediss+sentinel:": { tls: true, sentinel: true },
  "redis+cluster:": { tls: false, sentinel: false, cluster: true },
  "rediss+cluster:": { tls: true, sentinel: false, cluster: true },
};

/** Parses a Redis URL; `field` names the flag or field in errors. */
export function parseRedisUrl(url: string, field: string): RedisTarget {
  const m = /^([a-z+]+:)\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/]*)(?:\/([^/]*))?(?:\/(\d+))?\/?$/.exec(url);
  const scheme = m && schemes[m[1]];
  if (!m || !scheme) {
    throw new Error(`${field}: ${JSON.stringify(url)}: expected redis://host:port, rediss://host:port, redis+sentinel://host:port[,host:port...]/<master name> (rediss+sentinel:// for TLS), or redis+cluster://host:port[,host:port...] (rediss+cluster:// for TLS)`);
  }
  const [, , user, pass, hostList, first, second] = m;
  const decode = (s: string | undefined) => (s ? decodeURIComponent(s) : undefined);
  const nodes = hostList.split(",").map((hp) => parseHostPort(hp, scheme.sentinel ? 26379 : 6379, field, url));
  const base = { tls: scheme.tls, username: decode(user), password: decode(pass) };
  if (scheme.cluster) {
    // Redis Cluster has one database: no /db.
    if (first !== undefined && first !== "" || second !== undefined) throw new Error(`${field}: ${url}: a Redis Cluster URL takes no /path (a cluster has database 0 only): redis+cluster://host:port[,host:port...]`);
    return { ...base, cluster: { nodes }, db: 0 };
  }
  if (!scheme.sentinel) {
    if (nodes.length !== 1 || second !== undefined) throw new Error(`${field}: ${url}: one host:port (and /db) expected; a list of addresses needs redis+sentinel://`);
    return { ...base, host: nodes[0].host, port: nodes[0].port, db: dbNumber(first, field, url) };
  }
  if (!first) throw new Error(`${field}: ${url}: the Sentinel master name is missing (redis+sentinel://host:port,.../<master name>)`);
  return { ...base, sentinel: { nodes, name: decodeURIComponent(first) }, db: dbNumber(second, field, url) };
}

function parseHostPort(text: string, defaultPort: number, field: string, url: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:\[\]]+)(?::(\d+))?$/.exec(text);
  if (!m) throw new Error(`${field}: ${url}: ${JSON.stringify(text)} is not host:port`);
  const port = m[2] ? Number(m[2]) : defaultPort;
  if (port < 1 || port > 65535) throw new Error(`${field}: ${url}: port ${port} out of range`);
  return { host: m[1].replace(/^\[|\]$/g, ""), port };
}

function dbNumber(text: string | undefined, field: string, url: string): number {
  if (text === undefined || text === "") return 0;
  if (!/^\d+$/.test(text)) throw new Error(`${field}: ${url}: database ${JSON.stringify(text)} is not a number`);
  return Number(text);
}

/** Every address in the URL (the one Redis, or all sentinels). */
export function redisAddresses(target: RedisTarget): string[] {
  if (target.cluster) return target.cluster.nodes.map((n) => n.host);
  return target.sentinel ? target.sentinel.nodes.map((n) => n.host) : [target.host!];
}

/** The URL without credentials (what the server hands agents, who get their own). */
export function redisUrlWithoutCredentials(url: string): string {
  return url.replace(/^([a-z+]+:\/\/)[^@/]*@/, "$1").replace(/\/$/, "");
}

/** TLS options an ioredis client presents (the CA that signed Redis's certificate, a client certificate). */
export type RedisTlsOptions = { ca?: string; cert?: string; key?: string; minVersion: "TLSv1.2" };

/**
 * ioredis options for a target: host/port, or the sentinels and master name, whose data
 * connections use `tls` too (and the sentinel connections, when TLS). A primary that was
 * demoted under a live connection answers writes with READONLY: reconnecting finds the new one.
 */
export function redisTargetOptions(target: RedisTarget, tls: RedisTlsOptions | undefined): RedisOptions {
  const common: RedisOptions = {
    db: target.db,
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(target.tls ? { tls: tls ?? { minVersion: "TLSv1.2" } } : {}),
  };
  // Cluster: the per-node options; the seed nodes go to the Cluster client (redis-client.ts).
  if (target.cluster) return { ...common, reconnectOnError: (err: Error) => (/^READONLY\b/.test(err.message) ? 2 : false) };
  if (!target.sentinel) return { ...common, host: target.host, port: target.port };
  return {
    ...common,
    sentinels: target.sentinel.nodes,
    name: target.sentinel.name,
    ...(target.tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls ?? { minVersion: "TLSv1.2" } } : {}),
    // A failover moves the primary: retry the sentinels quickly rather than after ioredis's default backoff.
    sentinelRetryStrategy: (times: number) => Math.min(100 * times, 1000),
    reconnectOnError: (err: Error) => (/^READONLY\b/.test(err.message) ? 2 : false),
  };
}
