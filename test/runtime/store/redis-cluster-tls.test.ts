import t from "tap";
import * as fs from "fs";
import Redis from "ioredis";
import { join } from "path";
import { performance } from "perf_hooks";
import { keySlot } from "../../../runtime/store/key-slot";
import { serverTestDir } from "../../support/server-test-dir";
import { loadOrCreateCa } from "../../../runtime/tls/ca";
import { createEnvironment, waitForOk, type EnvHandle } from "../../../bench/support/http";
import { type Child, mapLimit, spawnServer } from "../../../bench/support/procs";
import { newSimStats, SimHost, startSimHost } from "../../../bench/support/sim-agent";
import { freePort } from "../../support/free-port";
import { startRedisCluster, type RedisClusterHandle } from "../../support/redis-cluster";
import { waitFor } from "../../support/wait";
import { checkRedis } from "../../../runtime/cli/smoke-redis";

/**
 * rediss+cluster://: a TLS-only Redis Cluster (3 primaries, 3 replicas; no plaintext port,
 * client certificates required, the cluster bus and replication over TLS; nodes known by a
 * name their certificate holds, not by an address), `drover server`
 * with its client certificate from its CA, and simulated agents with theirs (the agent's own
 * client options, each as its own ACL user). Hosts register, a service is placed and
 * reported running, then the primary serving the environment is SIGKILLed under API writes.
 * Heavy-ish (7 processes): run under labslot.
 */
t.setTimeout(180_000);

t.test("server and agents on a TLS-only 3+3 Redis Cluster: register, place, a primary failover", async (t) => {
  const { dir, adminKey, adminKeyFile, keyPrefix, keys } = serverTestDir("cluster-tls-test", "ct");
  let cluster: RedisClusterHandle | undefined;
  let server: Child | undefined;
  const sims: SimHost[] = [];
  t.teardown(async () => {
    for (const sim of sims) sim.stop();
    await server?.stop();
    await cluster?.stop();
    if (!process.env.DROVER_TEST_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  });
  // ioredis warns through console.warn when a ready check is refused: an agent's ACL user may
  // not run INFO, so its node connections must not try (runtime/protocol/redis-client.ts).
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => { warnings.push(args.map(String).join(" ")); };
  t.teardown(() => { console.warn = warn; });
  const tlsDir = join(dir, "tls");
  const ca = await loadOrCreateCa(tlsDir);
  // Nodes certified, announced and addressed by name (localhost), not by address: the client
  // must keep names through ioredis's seed lookup and CLUSTER NODES (redis-client.ts, cluster-nodes.ts).
  cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 1, tls: ca, hostname: "localhost" });
  t.match(cluster.url, /^rediss\+cluster:\/\/localhost:/);

  // No plaintext anywhere: no plain client port, the bus and replication on TLS, and a client
  // without TLS (or without a client certificate) gets no answer on the node's port.
  for (const p of cluster.nodes) {
    const conf = (await cluster.node(p).call("CONFIG", "GET", "*")) as string[];
    const get = (k: string) => conf[conf.indexOf(k) + 1];
    t.same([get("port"), get("tls-port"), get("tls-cluster"), get("tls-replication"), get("tls-auth-clients")], ["0", String(p), "yes", "yes", "yes"], `node ${p}: TLS only`);
  }
  const refused = async (opts: object) => {
    const c = new Redis({ host: "localhost", port: cluster!.nodes[0], lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000, commandTimeout: 2000, ...opts });
    c.on("error", () => undefined);
    try { await c.connect(); await c.ping(); return false; } catch { return true; } finally { c.disconnect(); }
  };
  t.ok(await refused({}), "a plaintext client gets no answer");
  t.ok(await refused({ tls: { ca: ca.cert } }), "a TLS client without a client certificate is refused");

  // drover smoke on the same URL, with a client certificate from the same CA.
  t.match((await checkRedis(cluster.url, tlsDir))[0], /: cluster_state ok, 3 primaries, 3 replicas, version \d/, "drover smoke checks every node over TLS");

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  server = spawnServer({
    listen: `127.0.0.1:${port}`, redis: cluster.url, adminKeyFile, keyPrefix, logFile: join(dir, "server.log"), disconnectGrace: "30s",
    extraArgs: ["--master-key-file", join(dir, "master-key"), "--tls-dir", tlsDir],
  });
  await waitForOk(`${url}/healthz`, { alive: server.alive, intervalMs: 20, timeoutMs: 20_000 });
  const admin = cluster.client();

  const stats = newSimStats();
  const env: EnvHandle = await createEnvironment(url, adminKey, "cluster-tls");
  const slot = keySlot(keys.env(env.id).rev);
  const register = (name: string) => startSimHost(url, env.registrationToken, name, stats, sims);
  const first = await register("t-0");
  t.match(first.response.redis.url, /^rediss\+cluster:\/\//, "agents are handed the rediss+cluster:// URL");
  t.ok(first.response.redis.clientCert && first.response.redis.ca, "and a client certificate and the CA");
  await mapLimit([1, 2], 2, (i) => register(`t-${i}`));
  const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "app" });
  const svc = await env.api.ok("POST", `${env.base}/services`, { stackId: stack.id, name: "web", image: "local/busybox", command: ["sleep", "3600"], scale: 3 });
  const running = async () => ((await env.api.ok("GET", `${env.base}/instances?serviceId=${svc.id}&limit=100`)).data as Array<{ id: string; state: string; hostId: string }>)
    .filter((i) => i.state === "active");
  await waitFor(async () => (await env.api.ok("GET", `${env.base}/services/${svc.id}`)).transitioning === "no" && (await running()).length === 3,
    { what: () => `service placed and active (agents: ${stats.errors} errors, last: ${stats.lastError})`, timeoutMs: 60_000, maxIntervalMs: 200 });
  t.ok(stats.observedWritten >= 1, `agents reported observed state over TLS (${stats.observedWritten})`);
  const before = new Map((await running()).map((i) => [i.id, i.hostId]));
  const usersPerNode = await Promise.all(cluster.nodes.map(async (p) =>
    ((await cluster!.node(p).call("ACL", "USERS")) as string[]).filter((u) => u.startsWith(`${keyPrefix}-host-`)).length));
  t.same(usersPerNode, cluster.nodes.map(() => 3), "every host's ACL user on every primary and replica, written over TLS");
  // Agents read and write primaries only: no idle connection of theirs left on a replica
  // (ioredis opened one to each seed node that is a replica, to send it READONLY).
  const agentConnsOnReplicas = [];
  for (const p of cluster.nodes) {
    if (((await cluster.node(p).call("ROLE")) as unknown[])[0] !== "slave") continue;
    agentConnsOnReplicas.push(String(await cluster.node(p).call("CLIENT", "LIST")).split("\n").filter((l) => l.includes(` user=${keyPrefix}-host-`)).length);
  }
  t.same(agentConnsOnReplicas, [0, 0, 0], "no agent connection held on a replica");

  // The primary serving the environment's slot SIGKILLed under API writes.
  const primary = await cluster.primaryOf(slot);
  const acked: string[] = [];
  const okAt: number[] = [];
  const failures: Array<{ at: number; status: number }> = [];
  /** [sent, answered] of every acknowledged write. */
  const spans: Array<[number, number]> = [];
  let writing = true;
  const loops = Array.from({ length: 2 }, async (_, w) => {
    for (let i = 0; writing; i++) {
      const name = `f${w}-${i}`;
      const sent = performance.now();
      const res = await env.api.call("POST", `${env.base}/stacks`, { name }).catch(() => ({ status: 0 }));
      if (res.status === 201) { acked.push(name); okAt.push(performance.now()); spans.push([sent, performance.now()]); } else {
        failures.push({ at: performance.now(), status: res.status });
        // Pacing, not a wait for an event: a refused writer tries again 20 ms later instead of
        // spinning on refusals while the cluster fails over.
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  await waitFor(() => acked.length >= 10, { what: "writes flowing", timeoutMs: 15_000 });
  const killAt = performance.now();
  const killEpoch = Date.now();
  await cluster.kill(primary);
  await waitFor(() => okAt.filter((x) => x > killAt + 100).length >= 10, {
    what: () => `writes acknowledged after the kill (${okAt.filter((x) => x > killAt).length}, ${failures.length} failed)`, timeoutMs: 60_000, maxIntervalMs: 100,
  });
  writing = false;
  await Promise.all(loops);
  const newPrimary = await cluster.primaryOf(slot);
  t.not(newPrimary, primary, `the replica took over the slot (${primary} → ${newPrimary})`);
  const lastFailure = Math.max(killAt, ...failures.filter((f) => f.at > killAt).map((f) => f.at));
  // Writes in flight across the kill wait for the promotion (ioredis retries on CLUSTERDOWN/MOVED) rather than fail.
  const longestMs = Math.max(...spans.filter(([, answered]) => answered > killAt).map(([sent, answered]) => answered - sent));
  t.comment(JSON.stringify({ acked: acked.length, failed: failures.length, statuses: [...new Set(failures.map((f) => f.status))], failingForMs: Math.round(lastFailure - killAt), longestWriteAcrossKillMs: Math.round(longestMs) }));
  t.equal(failures.filter((f) => f.at < killAt).length, 0, "no failure before the kill");
  t.ok(lastFailure - killAt < 15_000, `failures only within the failover window (${Math.round(lastFailure - killAt)} ms)`);
  const names = new Set((await admin.hvals(keys.env(env.id).stacks)).map((raw) => (JSON.parse(raw) as { name: string }).name));
  t.same(acked.filter((n) => !names.has(n)), [], `every acknowledged write is there after the failover (${acked.length})`);
  // Each agent's client certificate and ACL user work on the promoted replica: its heartbeat lands there.
  await waitFor(async () => {
    for (const sim of sims) {
      const beat = await admin.get(sim.keys.heartbeat);
      if (!beat || Date.parse((JSON.parse(beat) as { at: string }).at) <= killEpoch) return false;
    }
    return true;
  }, { what: () => `every agent heartbeating after the failover (agents: ${stats.errors} errors, last: ${stats.lastError})`, timeoutMs: 30_000, maxIntervalMs: 200 });
  t.pass("every agent heartbeats on the promoted replica");
  const after = new Map((await running()).map((i) => [i.id, i.hostId]));
  t.same([...after].sort(), [...before].sort(), "no instance moved or was lost");
  await register("t-after");
  t.pass("a host registers after the failover");
  const live = [];
  for (const p of cluster.nodes) if (p !== primary) live.push(p);
  const usersAfter = await Promise.all(live.map(async (p) =>
    ((await cluster!.node(p).call("ACL", "USERS")) as string[]).filter((u) => u.startsWith(`${keyPrefix}-host-`)).length));
  t.same(usersAfter, live.map(() => 4), "the new host's user on every live node");
  t.same(warnings.filter((w) => /ready check/.test(w)), [], "no agent connection tried a ready check its user may not run");
});
