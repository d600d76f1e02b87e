import t from "tap";
import * as fs from "fs";
import { join } from "path";
import { performance } from "perf_hooks";
import { keySlot } from "../../../runtime/store/key-slot";
import { makeKeys } from "../../../runtime/protocol/keys";
import { serverTestDir } from "../../support/server-test-dir";
import { createEnvironment, waitForOk, type EnvHandle } from "../../../bench/support/http";
import { type Child, mapLimit, spawnServer } from "../../../bench/support/procs";
import { newSimStats, SimHost, startSimHost } from "../../../bench/support/sim-agent";
import { freePort } from "../../support/free-port";
import { startRedisCluster, type RedisClusterHandle } from "../../support/redis-cluster";
import { waitFor } from "../../support/wait";
import type { Cluster } from "ioredis";
import { parseRedisUrl, redisTargetOptions } from "../../../runtime/protocol/redis-target";
import { createRedisClient } from "../../../runtime/protocol/redis-client";
import { allScripts } from "../../../runtime/store/lua/all";
import { ClusterHostAcl } from "../../../runtime/store/cluster-host-acl";
import { RedisStore } from "../../../runtime/store/redis-store";

/**
 * Redis Cluster: `drover server` and simulated agents (the agent's own client options, each as
 * its own ACL user) on a redis+cluster:// URL; 3 primaries and 3 replicas on loopback
 * (test/support/redis-cluster.ts). Environments land on different slots; hosts register,
 * a service is placed and reported running in each. Then a primary serving one environment
 * is SIGKILLed under API writes, and another environment's slot is migrated to another
 * primary under API writes. Heavy-ish (7 processes): run under labslot.
 */
t.setTimeout(300_000);

/** API writers creating stacks back to back in one environment; every acknowledged name must survive. */
function writers(env: EnvHandle, count: number, tag: string) {
  const acked: string[] = [];
  const okAt: number[] = [];
  /** [sent, answered] of every write. */
  const spans: Array<[number, number]> = [];
  const failures: Array<{ at: number; status: number; message?: string }> = [];
  const counts = { started: 0 };
  let writing = true;
  const loops = Array.from({ length: count }, async (_, w) => {
    for (let i = 0; writing; i++) {
      const name = `${tag}${w}-${i}`;
      counts.started++;
      const sent = performance.now();
      const res = await env.api.call("POST", `${env.base}/stacks`, { name }).catch((err) => ({ status: 0, body: { message: String(err) } }));
      spans.push([sent, performance.now()]);
      if (res.status === 201) { acked.push(name); okAt.push(performance.now()); } else {
        failures.push({ at: performance.now(), status: res.status, message: (res.body as { message?: string })?.message });
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  return {
    acked, okAt, failures, counts, spans,
    async stop() { writing = false; await Promise.all(loops); },
  };
}

t.test("server and agents on a 3+3 Redis Cluster: placement, a primary failover and a slot migration under writes", async (t) => {
  const { dir, adminKey, adminKeyFile, keyPrefix, keys } = serverTestDir("cluster-test", "cl");
  let cluster: RedisClusterHandle | undefined;
  let server: Child | undefined;
  const sims: SimHost[] = [];
  t.teardown(async () => {
    for (const sim of sims) sim.stop();
    await server?.stop();
    await cluster?.stop();
    if (!process.env.DROVER_TEST_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  });
  cluster = await startRedisCluster({ primaries: 3, replicasPerPrimary: 1 });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  server = spawnServer({
    listen: `127.0.0.1:${port}`, redis: cluster.url, adminKeyFile, keyPrefix, logFile: join(dir, "server.log"), disconnectGrace: "30s",
    extraArgs: ["--master-key-file", join(dir, "master-key")],
  });
  await waitForOk(`${url}/healthz`, { alive: server.alive, intervalMs: 20, timeoutMs: 20_000 });
  const admin = cluster.client();

  // Three environments, each with two simulated hosts and a service of 2.
  const stats = newSimStats();
  const envs: EnvHandle[] = [];
  for (let i = 0; i < 3; i++) envs.push(await createEnvironment(url, adminKey, `cluster-${i}`));
  const slots = envs.map((e) => keySlot(keys.env(e.id).rev));
  t.equal(new Set(slots).size, 3, `the environments sit on different slots (${slots.join(", ")})`);
  const register = (env: EnvHandle, name: string) => startSimHost(url, env.registrationToken, name, stats, sims);
  await mapLimit(envs.flatMap((env, e) => [0, 1].map((i) => ({ env, name: `c${e}-${i}` }))), 6, ({ env, name }) => register(env, name));
  const services: string[] = [];
  for (const env of envs) {
    const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "app" });
    const svc = await env.api.ok("POST", `${env.base}/services`, { stackId: stack.id, name: "web", image: "local/busybox", command: ["sleep", "3600"], scale: 2 });
    services.push(svc.id);
  }
  const running = async (env: EnvHandle, svcId: string) => ((await env.api.ok("GET", `${env.base}/instances?serviceId=${svcId}&limit=100`)).data as Array<{ state: string; hostId: string; status?: string }>)
    .filter((i) => i.state === "active");
  for (const [i, env] of envs.entries()) {
    await waitFor(async () => (await env.api.ok("GET", `${env.base}/services/${services[i]}`)).transitioning === "no" && (await running(env, services[i])).length === 2,
      { what: () => `service of ${env.id} placed and active (agents: ${stats.errors} errors, last: ${stats.lastError})`, timeoutMs: 60_000, maxIntervalMs: 200 });
  }
  t.pass("every environment's service placed and reported running by its agents");
  t.ok(stats.observedWritten >= 3, `agents reported observed state (${stats.observedWritten})`);
  const usersPerNode = await Promise.all(cluster.nodes.map(async (p) =>
    ((await cluster!.node(p).call("ACL", "USERS")) as string[]).filter((u) => u.startsWith(`${keyPrefix}-host-`)).length));
  t.same(usersPerNode, cluster.nodes.map(() => 6), "every host's ACL user on every primary and replica");
  const waits = (await Promise.all(cluster.nodes.map(async (p) => /cmdstat_wait:calls=(\d+)/.exec(await cluster!.node(p).info("commandstats"))?.[1] ?? "0"))).map(Number);
  t.ok(waits.reduce((a, b) => a + b, 0) > 0, `the server confirms writes with WAIT on the primaries (${waits.join(", ")})`);

  // 1. Failover: SIGKILL the primary serving environment 0's slot, under writes to it.
  {
    const env = envs[0];
    const primary = await cluster.primaryOf(slots[0]);
    const w = writers(env, 3, "f");
    await waitFor(() => w.acked.length >= 20, { what: "writes flowing", timeoutMs: 15_000 });
    const killAt = performance.now();
    await cluster.kill(primary);
    await waitFor(() => w.okAt.filter((x) => x > killAt + 100).length >= 20, {
      what: () => `writes acknowledged after the kill (${w.okAt.filter((x) => x > killAt).length}, ${w.failures.length} failed)`, timeoutMs: 60_000, maxIntervalMs: 100,
    });
    await w.stop();
    const newPrimary = await cluster.primaryOf(slots[0]);
    t.not(newPrimary, primary, `the replica took over the slot (${primary} → ${newPrimary})`);
    const failedAfter = w.failures.filter((f) => f.at > killAt);
    const lastFailure = Math.max(killAt, ...failedAfter.map((f) => f.at));
    t.comment(JSON.stringify({ acked: w.acked.length, failed: w.failures.length, statuses: [...new Set(w.failures.map((f) => f.status))], failingForMs: Math.round(lastFailure - killAt) }));
    t.equal(w.failures.filter((f) => f.at < killAt).length, 0, "no failure before the kill");
    t.ok(lastFailure - killAt < 15_000, `failures only within the failover window (${Math.round(lastFailure - killAt)} ms)`);
    const names = new Set((await admin.hvals(keys.env(env.id).stacks)).map((raw) => (JSON.parse(raw) as { name: string }).name));
    t.same(w.acked.filter((n) => !names.has(n)), [], `every acknowledged write is there after the failover (${w.acked.length})`);
    t.equal((await running(env, services[0])).length, 2, "the service's instances are still active");
    await register(env, "c0-after").then(() => t.pass("a host registers after the failover"));
  }

  // 2. Slot migration: environment 1's slot moves to another primary, key by key, under writes to it.
  {
    const env = envs[1];
    const slot = slots[1];
    const source = await cluster.primaryOf(slot);
    const target = (await cluster.primaries()).find((p) => p !== source)!;
    const w = writers(env, 3, "m");
    await waitFor(() => w.acked.length >= 20, { what: "writes flowing", timeoutMs: 15_000 });
    const startedAt = performance.now();
    // Keys move in batches of 3 (redis-cli --cluster reshard --cluster-pipeline 3), back to back
    // as redis-cli moves them, under the writers: meanwhile the slot is half here, half there,
    // and a script over keys on both sides is answered TRYAGAIN (retried) or ASK (followed).
    const moved = await cluster.moveSlot(slot, target, 3);
    const doneAt = performance.now();
    await waitFor(() => w.okAt.filter((x) => x > doneAt).length >= 20, { what: "writes after the migration", timeoutMs: 30_000, maxIntervalMs: 100 });
    await w.stop();
    const overlapping = w.spans.filter(([sent, answered]) => sent < doneAt && answered > startedAt).length;
    t.ok(moved > 10, `the environment's keys moved (${moved}, in ${Math.round(doneAt - startedAt)} ms)`);
    t.ok(overlapping >= 1, `API writes were in flight during the migration (${overlapping})`);
    t.equal(await cluster.primaryOf(slot), target, "the slot is served by the other primary");
    const names = new Set((await admin.hvals(keys.env(env.id).stacks)).map((raw) => (JSON.parse(raw) as { name: string }).name));
    t.same(w.acked.filter((n) => !names.has(n)), [], `every acknowledged write is there after the migration (${w.acked.length})`);
    t.comment(JSON.stringify({ acked: w.acked.length, failed: w.failures.length, messages: [...new Set(w.failures.map((f) => `${f.status} ${f.message}`))] }));
    t.same(w.failures.filter((f) => f.status >= 500 || f.status === 0).length, 0, "no 5xx during the migration");
    t.equal((await running(env, services[1])).length, 2, "the service's instances are still active");
  }

  // 3. An environment purged across the cluster, as the reconciler does at the end of a teardown.
  {
    const env = envs[2];
    const target = parseRedisUrl(cluster.url, "url");
    const client = createRedisClient(target, { ...redisTargetOptions(target, undefined), maxRetriesPerRequest: 1 }, { scriptNames: allScripts.map((s) => s.name) });
    const acl = new ClusterHostAcl(client as unknown as Cluster, {}, `${keyPrefix}-host-`, () => undefined);
    const store = new RedisStore(client, keys, { aclReplicas: acl });
    t.teardown(() => { void acl.stop(); client.disconnect(); });
    await store.setEnvironmentState(env.id, "removing");
    await store.purgeEnvironment(env.id);
    t.equal(await store.getEnvironment(env.id), undefined, "its record is gone");
    const left: number[] = [];
    const users: number[] = [];
    for (const p of cluster.nodes) {
      const node = cluster.node(p);
      const alive = await node.ping().then(() => true, () => false);
      if (!alive) continue;
      if (((await node.call("ROLE")) as unknown[])[0] === "master") left.push((await node.keys(makeKeys(keyPrefix).envPattern(env.id))).length);
      users.push(((await node.call("ACL", "USERS")) as string[]).filter((u) => u.startsWith(`${keyPrefix}-host-${env.id}-`)).length);
    }
    t.same(left, [0, 0, 0], "no key of it on any primary");
    t.ok(users.length >= 5 && users.every((n) => n === 0), `its host users are gone from every node (${users.length} alive)`);
    t.equal(await store.envIdForApiKey("x"), undefined);
    t.equal((await store.snapshot(envs[1].id)).env.id, envs[1].id, "the other environments stay");
  }
});
