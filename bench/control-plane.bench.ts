/**
 * Control-plane throughput: 1,000 simulated hosts, 10,000 instances, time until all of them
 * are `active`. No containers start: the hosts are simulated agents (bench/support/sim-agent.ts)
 * that speak the real protocol over Redis, each with its own ACL user from POST /v1/register,
 * and answer every desired document at once with an observed document that has every
 * instance `running` (built and written by the agent's own buildObserved and Reports).
 *
 * Processes (2 vCPUs): a private redis-server, `drover server` as a child process, and the
 * 1,000 simulated hosts in ONE child process of their own (this file with `--sim-agents`),
 * so the server's event loop, the agents' and this process's measuring never share a core's
 * queue. Each simulated host has two Redis connections, like the real agent: a command
 * connection and a blocking one for XREAD BLOCK on its nudges stream (2,000 connections).
 * A host's ACL user can read only its own keys, so one XREAD over many hosts' streams is
 * not possible; polling GET desired instead would cost 1,000 GETs per poll period and add
 * half a period of latency, while 1,000 parked XREADs cost Redis nothing until a nudge.
 *
 * Measured: from the POST of one service of scale 10,000 until the service's `transitioning`
 * turns "no" (the reconciler sets it in the same write that makes the last instance active),
 * polled every 10 ms; then checked with GET instances?state=active. Where the time went
 * comes from the simulated hosts' clocks (first/last desired document seen, last observed
 * written) and the server's "reconciled" log lines. Rounds: the service is deleted (and its
 * removal waited for) between rounds; value = median instances/s.
 *
 * Baseline ("the floor"), after the rounds with the server stopped: the same 1,000 hosts,
 * on the same connections and users, write the same observed documents (built from the
 * last desired document each holds) and the same XADD reports, all at once, no control
 * plane. baseline = 10,000 / that time in instances/s; ratio = value / baseline.
 */
import { IpcChild, serveRequests } from "./support/ipc-child";
import { randomBytes } from "crypto";
import * as fs from "fs";
import Redis from "ioredis";
import { tmpdir } from "os";
import { join } from "path";
import { performance } from "perf_hooks";
import { planEnvironment } from "../runtime/reconcile/plan";
import { makeKeys } from "../runtime/protocol/keys";
import { RedisStore } from "../runtime/store/redis-store";
import { freePort } from "../test/support/free-port";
import { startPrivateRedis, type PrivateRedis } from "../test/support/redis-server";
import { waitFor } from "../test/support/wait";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { createEnvironment, waitForOk } from "./support/http";
import { Child, mapLimit, median, procCpuSeconds, procStatusMb, spawnServer } from "./support/procs";
import { loadOrCreateCa } from "../runtime/tls/ca";
import { passesSince, type PassLine } from "./support/pass-lines";
import { allRunning, newSimStats, registerSimHost, SimHost, simRegisterRequest, SimStats } from "./support/sim-agent";

const HOSTS = Number(process.env.CP_BENCH_HOSTS ?? 1000);
const INSTANCES = Number(process.env.CP_BENCH_INSTANCES ?? 10_000);
const ROUNDS = Number(process.env.CP_BENCH_ROUNDS ?? 3);
const REGISTER_CONCURRENCY = 8;
const GOAL = 2000;
const ROUND_TIMEOUT_MS = 60_000;
/** Window over which the settled server's CPU use is read. */
const IDLE_MS = 5000;
/** 4,096 host /24s. */
const NETWORK = { cidr: "10.0.0.0/12", hostSubnetPrefix: 24 };

// ---------------------------------------------------------------- the simulated hosts (child process)

type SimRequest =
  | { op: "register"; url: string; token: string; count: number; concurrency: number; ca?: string }
  | { op: "stats"; reset?: boolean }
  | { op: "baseline"; rounds: number }
  | { op: "stop" };

function simMain(): void {
  const hosts: SimHost[] = [];
  const stats: SimStats = newSimStats();
  const handle = async (req: SimRequest): Promise<unknown> => {
    switch (req.op) {
      case "register": {
        const t0 = performance.now();
        let retries = 0;
        await mapLimit(Array.from({ length: req.count }, (_, i) => i), req.concurrency, async (i) => {
          const registeredAt = new Date().toISOString();
          const r = await registerSimHost(req.url, simRegisterRequest(req.token, `sim-${String(i).padStart(4, "0")}`), req.ca);
          retries += r.retries;
          const host = new SimHost(r.response, registeredAt, stats, { reportObserved: true });
          hosts.push(host);
          // Heartbeating at once, so the reconciler never sees a registered host without one.
          await host.start();
        });
        return { ms: performance.now() - t0, retries, hosts: hosts.length };
      }
      case "stats": {
        const out = { ...stats };
        if (req.reset) Object.assign(stats, newSimStats());
        return out;
      }
      case "baseline": {
        // The same writes as the simulated agents make, on the same connections, no control plane.
        const docs = hosts.map((h) => h.lastDesired);
        if (docs.some((d) => !d)) throw new Error("a simulated host holds no desired document");
        const roundsMs: number[] = [];
        for (let r = 0; r < req.rounds; r++) {
          const t0 = performance.now();
          await Promise.all(hosts.map((h, i) => h.writeObserved(allRunning(docs[i]!))));
          roundsMs.push(performance.now() - t0);
        }
        return { roundsMs, instances: docs.reduce((n, d) => n + d!.instances.length, 0) };
      }
      case "stop":
        for (const h of hosts) h.stop();
        return { stopped: hosts.length };
    }
  };
  serveRequests(handle);
}

/** The simulated hosts' process (this file with `--sim-agents`). */
class SimProcess extends IpcChild<SimRequest> {
  constructor(logFile: string) {
    super(__filename, ["--sim-agents"], logFile);
  }
}

// ---------------------------------------------------------------- the benchmark

interface RoundResult {
  serviceId: string;
  ms: number;
  active: number;
  desiredFirstMs: number;
  desiredLastMs: number;
  observedLastMs: number;
  passes: PassLine[];
  serverCpuS: number;
  redisCpuS: number;
}

export const benchmark: Benchmark = {
  name: "control-plane",
  summary: "instances/s to `active`: 10,000 instances on 1,000 simulated agents over Redis (vs raw writes of the same reports)",
  run: () => measureControlPlane({ tls: false }),
};

/**
 * One control-plane run. `tls`: every hop as across a network (bench/control-plane-tls.bench.ts):
 * the API over HTTPS with a certificate from a fresh CA, Redis TLS only with client
 * certificates, the simulated hosts registering through the agent's pinned client and
 * connecting with the certificates the server issued them.
 */
export async function measureControlPlane(opts: { tls: boolean }): Promise<BenchResult> {
  const dir = fs.mkdtempSync(join(tmpdir(), "drover-control-plane-"));
  const adminKey = `admin-${randomBytes(12).toString("hex")}`;
  const adminKeyFile = join(dir, "admin-key");
  fs.writeFileSync(adminKeyFile, adminKey + "\n", { mode: 0o600 });
  const keyPrefix = `cp${randomBytes(3).toString("hex")}`;
  const serverLog = join(dir, "server.log");
  let redis: PrivateRedis | undefined;
  let server: Child | undefined;
  let sim: SimProcess | undefined;
  let admin: Redis | undefined;
  try {
    const tlsDir = join(dir, "tls");
    const ca = opts.tls ? await loadOrCreateCa(tlsDir) : undefined;
    redis = await startPrivateRedis(["127.0.0.1"], ca ? { tls: { ca, dir: tlsDir } } : {});
    const redisPid = Number((await (admin = redis.client()).info("server")).match(/process_id:(\d+)/)![1]);
    const port = await freePort();
    const url = `${ca ? "https" : "http"}://127.0.0.1:${port}`;
    server = spawnServer({
      listen: `127.0.0.1:${port}`, redis: redis.url, adminKeyFile, keyPrefix, logFile: serverLog, disconnectGrace: "30s",
      extraArgs: ca ? ["--api-tls", "on", "--tls-dir", tlsDir] : [],
    });
    await waitForOk(`${url}/healthz`, { alive: server.alive, intervalMs: 10, ca: ca?.cert });
    // The default 10.42.0.0/16 holds 256 host /24s; 1,000 hosts need a bigger overlay range.
    const env = await createEnvironment(url, adminKey, "control-plane", NETWORK, ca?.cert);

    sim = new SimProcess(join(dir, "sim.log"));
    const reg = await sim.call<{ ms: number; retries: number; hosts: number }>({
      op: "register", url, token: env.registrationToken, count: HOSTS, concurrency: REGISTER_CONCURRENCY, ca: ca?.cert,
    });
    await waitFor(async () => (await env.api.total(`${env.base}/hosts?state=active`)) === HOSTS,
      { what: `${HOSTS} hosts active`, timeoutMs: 60_000, maxIntervalMs: 200 });
    const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "cp" });

    const rounds: RoundResult[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      if (r > 0) {
        await sim.call({ op: "stats", reset: true });
        await removeAll(env, sim, rounds[r - 1]);
      }
      await sim.call({ op: "stats", reset: true });
      const cpu0 = { server: procCpuSeconds(server.pid), redis: procCpuSeconds(redisPid) };
      const epoch0 = Date.now();
      const t0 = performance.now();
      const svc = await env.api.ok("POST", `${env.base}/services`, {
        stackId: stack.id, name: `web${r}`, image: "local/busybox", command: ["sleep", "3600"], scale: INSTANCES,
      });
      let state = "";
      for (;;) {
        const s = await env.api.ok("GET", `${env.base}/services/${svc.id}`);
        state = s.transitioning;
        if (state === "no") break;
        if (state === "error") throw new Error(`service ${svc.id}: ${s.transitioningMessage}`);
        if (performance.now() - t0 > ROUND_TIMEOUT_MS) throw new Error(`round ${r}: not all active after ${ROUND_TIMEOUT_MS} ms`);
        await new Promise((res) => setTimeout(res, 10));
      }
      const ms = performance.now() - t0;
      const epoch1 = Date.now();
      const cpu1 = { server: procCpuSeconds(server.pid), redis: procCpuSeconds(redisPid) };
      const active = await env.api.total(`${env.base}/instances?serviceId=${svc.id}&state=active`);
      if (active !== INSTANCES) throw new Error(`round ${r}: service settled with ${active} active instances, want ${INSTANCES}`);
      const st = await sim.call<SimStats>({ op: "stats" });
      if (st.errors) throw new Error(`round ${r}: simulated hosts had ${st.errors} errors, last: ${st.lastError}`);
      rounds.push({
        serviceId: svc.id, ms, active,
        desiredFirstMs: (st.firstDesiredAt ?? NaN) - epoch0,
        desiredLastMs: (st.lastDesiredAt ?? NaN) - epoch0,
        observedLastMs: (st.lastObservedAt ?? NaN) - epoch0,
        passes: passesSince(fs.readFileSync(serverLog, "utf8"), epoch0, epoch1),
        serverCpuS: cpu1.server - cpu0.server,
        redisCpuS: cpu1.redis - cpu0.redis,
      });
    }

    // The server with nothing to do (10,000 active instances, hosts heartbeating): its CPU use.
    const idle0 = procCpuSeconds(server.pid);
    await new Promise((res) => setTimeout(res, IDLE_MS));
    const serverIdleCores = (procCpuSeconds(server.pid) - idle0) / (IDLE_MS / 1000);
    // Memory with 1,000 hosts connected and 10,000 instances active (TLS adds per-connection buffers).
    const memory = {
      serverRssMb: procStatusMb(server.pid, "VmRSS"), serverPeakRssMb: procStatusMb(server.pid, "VmHWM"),
      redisRssMb: procStatusMb(redisPid, "VmRSS"),
      redisUsedMemoryMb: Number(/used_memory:(\d+)/.exec(await admin.info("memory"))![1]) / 2 ** 20,
    };

    // What one reconcile pass costs at this size, in this process (reads, then the pure plan).
    const passCost = await measurePass(redis.url, keyPrefix, env.id, redis.tls);

    // The floor: the server stopped, the same observed writes straight to Redis.
    await server.stop();
    server = undefined;
    const floor = await sim.call<{ roundsMs: number[]; instances: number }>({ op: "baseline", rounds: 3 });

    const perRound = rounds.map((x) => (INSTANCES / x.ms) * 1000);
    const value = median(perRound);
    const baselineMs = median(floor.roundsMs);
    const baseline = (floor.instances / baselineMs) * 1000;
    const mid = rounds[perRound.indexOf([...perRound].sort((a, b) => a - b)[Math.floor((perRound.length - 1) / 2)])];
    console.log(`control-plane: median round ${round(mid.ms, 0)} ms = scheduling pass ${round(mid.desiredFirstMs, 0)} + desired writes ${round(mid.desiredLastMs - mid.desiredFirstMs, 0)}`
      + ` + agents ${round(mid.observedLastMs - mid.desiredLastMs, 0)} + observed→active ${round(mid.ms - mid.observedLastMs, 0)};`
      + ` one steady pass at this size: reads ${round(passCost.readMs, 0)} ms, plan ${round(passCost.planMs, 0)} ms; floor ${round(baselineMs, 0)} ms`);
    return {
      name: "control-plane",
      unit: "instances/s",
      value: round(value, 0),
      baseline: round(baseline, 0),
      ratio: round(value / baseline, 4),
      goal: `>= ${GOAL} instances/s from service create to ${INSTANCES} instances active on ${HOSTS} simulated agents (ratio = fraction of the raw-write floor)`,
      ok: value >= GOAL,
      extra: {
        hosts: HOSTS,
        instances: INSTANCES,
        rounds: ROUNDS,
        roundsMs: rounds.map((x) => round(x.ms, 0)).join(" "),
        roundsPerSec: perRound.map((x) => round(x, 0)).join(" "),
        floorRoundsMs: floor.roundsMs.map((x) => round(x, 1)).join(" "),
        registerMs: round(reg.ms, 0),
        registerPerSec: round((HOSTS / reg.ms) * 1000, 1),
        registerRetries: reg.retries,
        // Where the time went in the median round (phases, ms): create request → first desired
        // document seen by a host (API write, scheduling pass, batch write of the records);
        // first → last desired document seen (1,000 setDesired calls of that pass); last
        // desired → last observed written (the simulated agents); last observed → all
        // active seen through the API (the pass applying the reports).
        schedulingPassMs: round(mid.desiredFirstMs, 0),
        desiredWritesMs: round(mid.desiredLastMs - mid.desiredFirstMs, 0),
        agentsMs: round(mid.observedLastMs - mid.desiredLastMs, 0),
        observedToActiveMs: round(mid.ms - mid.observedLastMs, 0),
        passes: mid.passes.map((p) => `${p.atMs}ms:puts=${p.puts},removes=${p.removes},docs=${p.desiredDocs}${p.ms?.total !== undefined ? `,took=${p.ms.total}ms` : ""}`).join(" "),
        serverCpuS: round(mid.serverCpuS, 2),
        redisCpuS: round(mid.redisCpuS, 2),
        serverIdleCpuCores: round(serverIdleCores, 2),
        passReadMs: round(passCost.readMs, 0),
        passPlanMs: round(passCost.planMs, 0),
        tls: opts.tls ? "on" : "off",
        serverRssMb: round(memory.serverRssMb, 0),
        serverPeakRssMb: round(memory.serverPeakRssMb, 0),
        redisRssMb: round(memory.redisRssMb, 0),
        redisUsedMemoryMb: round(memory.redisUsedMemoryMb, 0),
      },
    };
  } finally {
    await sim?.stop();
    await server?.stop();
    admin?.disconnect();
    await redis?.stop();
    if (process.env.DROVER_BENCH_KEEP) console.error(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Deletes the previous round's service and waits until its instances and desired entries are gone. */
async function removeAll(env: Awaited<ReturnType<typeof createEnvironment>>, sim: SimProcess, prev: RoundResult): Promise<void> {
  const serviceId = prev.serviceId;
  await env.api.ok("DELETE", `${env.base}/services/${serviceId}`);
  await waitFor(async () => (await env.api.total(`${env.base}/instances`)) === 0,
    { what: "previous round's instances removed", timeoutMs: ROUND_TIMEOUT_MS, maxIntervalMs: 200 });
  await waitFor(async () => (await env.api.call("GET", `${env.base}/services/${serviceId}`)).status === 404,
    { what: "previous round's service removed", timeoutMs: ROUND_TIMEOUT_MS, maxIntervalMs: 200 });
  // The (now empty) desired documents go out after the records are gone: wait until the hosts
  // have seen no new document for a while, so the next round starts from a quiet system.
  await waitFor(async () => {
    const st = await sim.call<SimStats>({ op: "stats" });
    return st.lastDesiredAt !== undefined && Date.now() - st.lastDesiredAt > 1000;
  }, { what: "desired documents of the removal delivered", timeoutMs: ROUND_TIMEOUT_MS, maxIntervalMs: 200 });
}

/** One reconcile pass's reads (snapshot, heartbeats, 2 GETs per host) and its pure plan, median of 3. */
async function measurePass(redisUrl: string, keyPrefix: string, envId: string, tls?: PrivateRedis["tls"]): Promise<{ readMs: number; planMs: number }> {
  const store = new RedisStore({ host: new URL(redisUrl).hostname, port: Number(new URL(redisUrl).port), maxRetriesPerRequest: 1, ...(tls ? { tls } : {}) }, makeKeys(keyPrefix));
  const reads: number[] = [];
  const plans: number[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const snapshot = await store.snapshot(envId);
      const hostIds = snapshot.hosts.map((h) => h.id);
      const [heartbeats, observed, desired] = await Promise.all([
        store.heartbeats(envId, hostIds),
        Promise.all(hostIds.map((h) => store.getObserved(envId, h))),
        Promise.all(hostIds.map((h) => store.getDesired(envId, h))),
      ]);
      const t1 = performance.now();
      const byHost = <T>(list: T[]) => Object.fromEntries(hostIds.map((h, k) => [h, list[k]])) as Record<string, T>;
      planEnvironment({
        snapshot, heartbeats, observed: byHost(observed), desired: byHost(desired), teardownDone: byHost(hostIds.map(() => false)),
        now: Date.now(), seed: snapshot.rev, graceMs: 30_000, newId: () => `x${randomBytes(6).toString("hex")}`,
      });
      reads.push(t1 - t0);
      plans.push(performance.now() - t1);
    }
  } finally {
    await store.close();
  }
  return { readMs: median(reads), planMs: median(plans) };
}

if (require.main === module && process.argv[2] === "--sim-agents") simMain();
