import * as fs from "fs";
import * as path from "path";
import Redis, { type Cluster } from "ioredis";
import { createRedisClient, isCluster } from "../protocol/redis-client";
import { parseClusterNodes } from "../store/cluster-nodes";
import { parseRedisUrl, redisTargetOptions, redisUrlWithoutCredentials, type RedisTlsOptions } from "../protocol/redis-target";

/**
 * `drover smoke`'s Redis check, for every URL the server takes: redis://, rediss://,
 * redis+sentinel:// (the primary the sentinels name), redis+cluster:// (every node the
 * cluster lists, and its state). TLS URLs present a client certificate issued for the check
 * from drover's CA in `tlsDir`, as the server does (Redis requires one), and check Redis's
 * certificate against that CA. Returns the report's lines; throws with the reason on failure.
 */
export async function checkRedis(url: string, tlsDir: string): Promise<string[]> {
  const target = parseRedisUrl(url, "--redis");
  const tls = target.tls ? await clientTls(tlsDir) : undefined;
  const shown = redisUrlWithoutCredentials(url);
  const redis = createRedisClient(target, {
    ...redisTargetOptions(target, tls), lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5000,
    // One try: a smoke check reports, it does not wait for Redis to come.
    retryStrategy: () => null,
  });
  let lastError = "";
  redis.on("error", (err: Error) => { lastError = err.message; });
  try {
    await redis.connect().catch((err: Error) => { throw new Error(`redis ${shown}: cannot connect: ${lastError || err.message}`); });
    const pong = await redis.ping();
    const version = /redis_version:(\S+)/.exec(await redis.info("server"))?.[1] ?? "?";
    if (!isCluster(redis)) return [`redis   ${shown}: ${pong}, version ${version}`];
    const cluster = redis as unknown as Cluster;
    const state = /cluster_state:(\w+)/.exec(String(await cluster.call("CLUSTER", "INFO")))?.[1] ?? "?";
    // Every node CLUSTER NODES lists (the client itself holds connections to primaries only), pinged directly.
    const nodes = parseClusterNodes(String(await cluster.call("CLUSTER", "NODES")));
    const direct = redisTargetOptions({ ...target, cluster: undefined }, tls);
    const bad = (await Promise.all(nodes.map(async (n) => {
      if (n.unusable) return `${n.address} (marked failed or without an address)`;
      const i = n.address.lastIndexOf(":");
      const node = new Redis({ ...direct, host: n.address.slice(0, i), port: Number(n.address.slice(i + 1)), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
      node.on("error", () => undefined);
      try { await node.connect(); await node.ping(); return undefined; } catch (err) { return `${n.address} (${(err as Error).message})`; } finally { node.disconnect(); }
    }))).filter((b): b is string => b !== undefined);
    const primaries = nodes.filter((n) => n.primary).length;
    const line = `redis   ${shown}: cluster_state ${state}, ${primaries} primaries, ${nodes.length - primaries} replicas, version ${version}`;
    if (state !== "ok" || bad.length) throw new Error(`${line}; ${bad.length ? `not answering: ${bad.join(", ")}` : "the cluster is not serving every slot"}`);
    return [line];
  } finally {
    redis.disconnect();
  }
}

async function clientTls(tlsDir: string): Promise<RedisTlsOptions> {
  if (!fs.existsSync(path.join(tlsDir, "ca-key.pem"))) {
    throw new Error(`--tls-dir: no drover CA in ${tlsDir} (ca.pem, ca-key.pem): a rediss URL needs the CA that signed Redis's certificate, which \`drover server\` makes in its --tls-dir`);
  }
  // Required here: node-forge is not loaded for plain checks.
  const { issueCertificate, loadOrCreateCa } = require("../tls/ca") as typeof import("../tls/ca");
  const ca = await loadOrCreateCa(tlsDir);
  const issued = issueCertificate(ca, { commonName: "drover-smoke", usage: ["client"], days: 1 });
  return { ca: ca.cert, cert: issued.cert, key: issued.key!, minVersion: "TLSv1.2" };
}
