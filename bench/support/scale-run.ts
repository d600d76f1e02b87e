/**
 * The `scale` run (bench/scale.bench.ts; a small variant in test/bench/scale.test.ts):
 * simulated agents (sim-fleet.ts, the real protocol, each its own ACL user, registered
 * through the real API) in several environments, several `drover server` processes on one
 * Redis (or a Redis Cluster), services placed at once. Measured: placements/s (service POSTs
 * until every instance record exists) against the raw Redis floor of the same record writes
 * done with the same parallelism (one connection per server, each writing the environments
 * its server led, one after another as a server's reconcile loop does), convergence (until
 * the agents report every instance running, and until the API shows every service settled),
 * each server's peak RSS, Redis CPU (INFO cpu delta / wall; on a cluster every node's,
 * replicas included). Checked: every instance placed
 * once, on one host, none duplicated.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import Redis, { Cluster } from "ioredis";
import { tmpdir } from "os";
import { join } from "path";
import { performance } from "perf_hooks";
import type { InstanceRecord } from "../../runtime/protocol/model";
import { makeKeys } from "../../runtime/protocol/keys";
import { hostUsernamePrefix } from "../../runtime/store/host-acl";
import { HostAclReplicas } from "../../runtime/store/host-acl-replicas";
import { freePort } from "../../test/support/free-port";
import { startPrivateRedis } from "../../test/support/redis-server";
import { WaitAbort, waitFor } from "../../test/support/wait";
import { createEnvironment, waitForOk, type EnvHandle } from "./http";
import { type Child, procCpuSeconds, procStatusMb, spawnServer } from "./procs";
import { SimFleet, type FleetHost, type FleetStats } from "./sim-fleet";

export interface ScaleOptions {
  agents: number;
  instances: number;
  environments: number;
  servicesPerEnvironment: number;
  servers: number;
  /** Child processes the simulated agents are spread over. */
  fleets: number;
  /** "single" (a private redis-server), "cluster" (test/support/redis-cluster.ts), or a redis:// URL. */
  redis: string;
  timeoutMs: number;
  /**
   * Also measure the Sentinel deployments' ACL replica sync (runtime/store/host-acl-replicas.ts)
   * at this many host users: a replica attached after the run, one catch-up sync, then the
   * periodic (every 5 s) sync's cost. Only with a private single Redis.
   */
  measureAclSync?: boolean;
  /** The servers' --lease-ttl (default theirs, 5s). */
  leaseTtl?: string;
  log?: (line: string) => void;
}

/** Sizes from SCALE_* environment variables, defaults the issue's full size. */
export function scaleOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ScaleOptions {
  const num = (name: string, def: number) => {
    const v = env[name];
    if (v === undefined || v === "") return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
  return {
    agents: num("SCALE_AGENTS", 5000),
    instances: num("SCALE_INSTANCES", 100_000),
    environments: num("SCALE_ENVIRONMENTS", 4),
    servicesPerEnvironment: num("SCALE_SERVICES", 5),
    servers: num("SCALE_SERVERS", 3),
    fleets: num("SCALE_FLEETS", 4),
    redis: env.SCALE_REDIS || "single",
    timeoutMs: num("SCALE_TIMEOUT_MS", 900_000),
    measureAclSync: env.SCALE_ACL_SYNC !== "0",
    // 25,000-instance environments on a busy 2-core machine: passes block a server's event loop
    // longer than the default 5 s lease, and leadership moved back and forth (373 placements/s).
    leaseTtl: env.SCALE_LEASE_TTL || "30s",
  };
}

export interface ScaleResult {
  placementsPerSec: number;
  floorPlacementsPerSec: number;
  placedMs: number;
  floorMs: number;
  /** Service POSTs → the agents report every instance running. */
  convergedMs: number;
  /** Service POSTs → every service settled (transitioning "no") through the API. */
  settledMs: number;
  registerMs: number;
  registerRetries: number;
  /** Per host, means: the API's registration call; the agent's Redis clients connecting and its first heartbeat. */
  registerApiMeanMs: number;
  registerStartMeanMs: number;
  serverPeakRssMb: number[];
  /** The same peak up to the moment every instance was placed. */
  serverPlacingPeakRssMb: number[];
  serverHwmRssMb: number[];
  redisCpuCores: number;
  redisCpuS: number;
  /**
   * CPU seconds used from the service POSTs until every record existed (the `placed` window):
   * each server, the simulated agents (all fleets), Redis. With the window's length this says
   * how busy the machine's cores were and who used them.
   */
  placingCpuS: { servers: number[]; agents: number; redis: number };
  envsPerServer: number[];
  /** API answer times of changes sent once every record existed (the leaders writing the agents' reports back), one per environment. */
  updateAnsweredMs: { stackPatch: number[]; serviceScale: number[] };
  /** Correctness: instance records found, distinct ids, distinct (service, index), instances the agents hold, held twice. */
  records: number;
  distinctIds: number;
  distinctSlots: number;
  perServiceOk: boolean;
  agentHeld: number;
  agentDuplicates: number;
  agentErrors: number;
  /** The heartbeat cadences the simulated hosts ended on, and how many hosts each. */
  heartbeatCadences: string;
  redisKind: string;
  aclSync?: AclSyncCost;
}

export interface AclSyncCost {
  users: number;
  /** A fresh replica's first sync (every host user written to it). */
  catchUpMs: number;
  /** The periodic sync with nothing to change: wall ms (median of 5), and the primary's and replica's CPU ms per sync. */
  steadyMs: number;
  steadyPrimaryCpuMs: number;
  steadyReplicaCpuMs: number;
}

/**
 * The ACL replica sync at this many host users: a replica of the primary started now, the
 * server's own HostAclReplicas run against it (not started: its syncs called one by one).
 */
async function measureAclSync(primaryUrl: string, admin: Redis, userPrefix: string): Promise<AclSyncCost> {
  const replica = await startPrivateRedis();
  const rc = replica.client();
  const sync = new HostAclReplicas(admin, {}, userPrefix, () => undefined);
  try {
    const primary = new URL(primaryUrl);
    // Loaded straight from the socket: a replica's sync RDB would otherwise land in the cwd.
    await rc.config("SET", "repl-diskless-load", "on-empty-db");
    await rc.call("REPLICAOF", primary.hostname, primary.port);
    // Attached and done loading the data, so the syncs below measure the ACL work alone.
    await waitFor(async () => {
      const info = await rc.info("replication");
      return /master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info)
        && ((await admin.call("ROLE")) as [string, number, unknown[]])[2].length === 1;
    }, { what: "the replica attached and loaded", timeoutMs: 120_000 });
    const c0 = performance.now();
    await sync.sync();
    const catchUpMs = performance.now() - c0;
    const users = ((await rc.call("ACL", "LIST")) as string[]).filter((l) => l.split(" ")[1]?.startsWith(userPrefix)).length;
    const walls: number[] = [];
    const cpu0 = { p: cpuSeconds(await admin.info("cpu")), r: cpuSeconds(await rc.info("cpu")) };
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      await sync.sync();
      walls.push(performance.now() - t0);
    }
    const cpu1 = { p: cpuSeconds(await admin.info("cpu")), r: cpuSeconds(await rc.info("cpu")) };
    walls.sort((a, b) => a - b);
    return { users, catchUpMs, steadyMs: walls[2], steadyPrimaryCpuMs: ((cpu1.p - cpu0.p) * 1000) / 5, steadyReplicaCpuMs: ((cpu1.r - cpu0.r) * 1000) / 5 };
  } finally {
    await sync.stop();
    await replica.stop();
  }
}

interface Target {
  url: string;
  kind: string;
  /** A new admin connection (a Cluster client for a cluster). */
  connect(): Redis | Cluster;
  /** Every node's client, for INFO and CONFIG. */
  nodes(admin: Redis | Cluster): Redis[];
  stop(): Promise<void>;
}

function clusterNodes(url: string): { host: string; port: number }[] {
  return url.replace(/^redis\+cluster:\/\//, "").split(",").map((hp) => {
    const [host, port] = hp.split("/")[0].split(":");
    return { host, port: Number(port) };
  });
}

async function startTarget(spec: string): Promise<Target> {
  const single = (url: string, kind: string, stop: () => Promise<void>): Target => ({
    url, kind, stop,
    connect: () => new Redis(url, { maxRetriesPerRequest: 2 }),
    nodes: (admin) => [admin as Redis],
  });
  if (spec === "single") {
    const r = await startPrivateRedis();
    return single(r.url, "one redis-server", () => r.stop());
  }
  if (spec === "cluster") {
    // Engineer "cluster"'s helper; a computed path, so this builds before their branch merges.
    const modulePath = "../../test/support/redis-cluster";
    let start: (o: { primaries: number; replicasPerPrimary: number; nodeTimeoutMs: number }) => Promise<{ url: string; nodes: number[]; node(port: number): Redis; stop(): Promise<void> }>;
    try {
      start = require(modulePath).startRedisCluster;
    } catch {
      throw new Error("SCALE_REDIS=cluster: test/support/redis-cluster.ts (startRedisCluster) is not in this build yet");
    }
    // Redis's default node timeout (15 s), not the tests' 1 s: with the machine's cores taken
    // by servers and agents, nodes missed 1 s of heartbeats and replicas took over mid-run
    // (two failovers in a 5,000-agent run), which measures the box, not the cluster.
    const c = await start({ primaries: 3, replicasPerPrimary: 1, nodeTimeoutMs: 15_000 });
    return {
      url: c.url, kind: "redis cluster (3 primaries, 1 replica each)", stop: () => c.stop(),
      connect: () => new Cluster(clusterNodes(c.url), { redisOptions: { maxRetriesPerRequest: 2 } }),
      // Every node, replicas too: maxclients must hold on a replica that gets promoted, and a
      // replica's CPU is part of what the cluster costs. (A fresh Cluster client's
      // nodes("master") is empty until its first slots refresh: maxclients was set nowhere, and
      // 5,000 agents' connections were refused past 10,000 on a node.)
      nodes: () => c.nodes.map((port) => c.node(port)),
    };
  }
  if (/^rediss?:\/\//.test(spec)) return single(spec, spec, async () => undefined);
  throw new Error(`SCALE_REDIS: expected single, cluster or a redis:// URL, got ${JSON.stringify(spec)}`);
}

const cpuSeconds = (info: string) => Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)![1]);

async function redisCpu(target: Target, admin: Redis | Cluster): Promise<number> {
  let sum = 0;
  for (const node of target.nodes(admin)) sum += cpuSeconds(await node.info("cpu"));
  return sum;
}

/** Redis's busiest commands since `CONFIG RESETSTAT` (every node's, summed): "name ms/calls", the top `n`. */
async function busiestCommands(target: Target, admin: Redis | Cluster, n: number): Promise<string> {
  const usec = new Map<string, [number, number]>();
  for (const node of target.nodes(admin)) {
    for (const m of (await node.info("commandstats")).matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
      const [calls, us] = usec.get(m[1]) ?? [0, 0];
      usec.set(m[1], [calls + Number(m[2]), us + Number(m[3])]);
    }
  }
  return [...usec].sort((a, b) => b[1][1] - a[1][1]).slice(0, n).map(([name, [calls, us]]) => `${name} ${Math.round(us / 1000)}ms/${calls}`).join(", ");
}

export async function runScale(o: ScaleOptions): Promise<ScaleResult> {
  const log = o.log ?? ((line: string) => console.error(line));
  if (o.instances % (o.environments * o.servicesPerEnvironment) !== 0) {
    throw new Error(`instances (${o.instances}) must divide evenly over ${o.environments} environments × ${o.servicesPerEnvironment} services`);
  }
  const scale = o.instances / (o.environments * o.servicesPerEnvironment);
  const dir = fs.mkdtempSync(join(tmpdir(), "drover-scale-"));
  const adminKey = `admin-${randomBytes(12).toString("hex")}`;
  const adminKeyFile = join(dir, "admin-key");
  fs.writeFileSync(adminKeyFile, adminKey + "\n", { mode: 0o600 });
  const keyPrefix = `sc${randomBytes(3).toString("hex")}`;
  const keys = makeKeys(keyPrefix);
  const servers: Child[] = [];
  const serverLogs: string[] = [];
  const fleets: SimFleet[] = [];
  let target: Target | undefined;
  let admin: Redis | Cluster | undefined;
  let rssTimer: NodeJS.Timeout | undefined;
  try {
    target = await startTarget(o.redis);
    admin = target.connect();
    // Two connections per simulated agent, plus the servers'.
    for (const node of target.nodes(admin)) await node.config("SET", "maxclients", String(Math.max(10_000, 2 * o.agents + 1000)));

    const urls: string[] = [];
    for (let k = 0; k < o.servers; k++) {
      const port = await freePort();
      const logFile = join(dir, `server-${k}.log`);
      serverLogs.push(logFile);
      servers.push(spawnServer({ listen: `127.0.0.1:${port}`, redis: target.url, adminKeyFile, keyPrefix, logFile, disconnectGrace: "120s", serverId: `scale-${k}`,
        extraArgs: o.leaseTtl ? ["--lease-ttl", o.leaseTtl] : [] }));
      urls.push(`http://127.0.0.1:${port}`);
    }
    // A server that exits ends the run at once, with the end of its log.
    const serversAlive = () => {
      const dead = servers.findIndex((s) => !s.alive());
      if (dead >= 0) throw new WaitAbort(`server ${dead} exited: ${fs.readFileSync(serverLogs[dead], "utf8").split("\n").slice(-15).join("\n")}`);
    };
    for (const [k, url] of urls.entries()) await waitForOk(`${url}/healthz`, { alive: servers[k].alive, intervalMs: 20, timeoutMs: 60_000 });

    // Environments, each led by one server: drover has no lease balancing (the first server to
    // see an environment takes it), so the bench hands environment k's lease to server k mod N
    // the way a failover would: a new fence under that server's id; it then renews it.
    const envs: EnvHandle[] = [];
    for (let e = 0; e < o.environments; e++) envs.push(await createEnvironment(urls[0], adminKey, `scale-${e}`, { cidr: "10.0.0.0/8", hostSubnetPrefix: 24 }));
    const leaderOf = (e: number) => e % o.servers;
    for (const [e, env] of envs.entries()) {
      const k = leaderOf(e);
      await waitFor(async () => (await admin!.get(keys.env(env.id).leader)) !== null, { what: `environment ${env.id} led`, timeoutMs: 30_000 });
      if ((await admin.get(keys.env(env.id).leader))!.startsWith(`scale-${k}:`)) continue;
      const fence = await admin.incr(keys.env(env.id).fence);
      await admin.set(keys.env(env.id).leader, `scale-${k}:${fence}`, "PX", 5000);
    }
    for (const [e, env] of envs.entries()) {
      const k = leaderOf(e);
      await waitFor(() => fs.readFileSync(serverLogs[k], "utf8").split("\n").some((l) => l.includes("leading environment") && l.includes(env.id)),
        { what: `server ${k} leading environment ${env.id}`, timeoutMs: 30_000 });
    }

    // Agents: host i in environment i mod E, registering with server i mod N, in fleet i mod F.
    for (let f = 0; f < o.fleets; f++) fleets.push(new SimFleet(join(dir, `fleet-${f}.log`)));
    const perFleet: FleetHost[][] = fleets.map(() => []);
    for (let i = 0; i < o.agents; i++) {
      perFleet[i % o.fleets].push({ url: urls[i % o.servers], token: envs[i % o.environments].registrationToken, name: `s-${String(i).padStart(5, "0")}` });
    }
    const r0 = performance.now();
    const regs = await Promise.all(fleets.map((f, k) => f.register(perFleet[k], 16)));
    serversAlive();
    const registerMs = performance.now() - r0;
    const registerRetries = regs.reduce((n, r) => n + r.retries, 0);
    // Where a registration's time goes, per host: the API call, and the agent's Redis clients connecting.
    const registerApiMeanMs = regs.reduce((n, r) => n + r.apiMs, 0) / o.agents;
    const registerStartMeanMs = regs.reduce((n, r) => n + r.startMs, 0) / o.agents;
    log(`scale: ${o.agents} agents registered in ${Math.round(registerMs)} ms (${registerRetries} retries; per host: API ${registerApiMeanMs.toFixed(1)} ms, agent clients connecting ${registerStartMeanMs.toFixed(1)} ms)`);
    await waitFor(async () => {
      serversAlive();
      let active = 0;
      for (const env of envs) active += await env.api.total(`${env.base}/hosts?state=active`);
      return active === o.agents;
    }, { what: `${o.agents} hosts active`, timeoutMs: 120_000, maxIntervalMs: 500 });

    // Peak RSS of each server, sampled from here on (VmHWM also counts start-up).
    const peakRss = servers.map(() => 0);
    // When each server's peak was sampled (clock time, to read against its log's pass lines).
    const peakAt = servers.map(() => "");
    const sampleRss = () => servers.forEach((s, k) => {
      if (!s.alive()) return;
      const rss = procStatusMb(s.pid, "VmRSS");
      if (rss > peakRss[k]) { peakRss[k] = rss; peakAt[k] = new Date().toISOString(); }
    });
    sampleRss();
    rssTimer = setInterval(sampleRss, 250);

    const stacks = await Promise.all(envs.map((env) => env.api.ok("POST", `${env.base}/stacks`, { name: "scale" })));
    const cpu0 = await redisCpu(target, admin);
    const processCpu = () => ({ servers: servers.map((s) => procCpuSeconds(s.pid)), agents: fleets.reduce((n, f) => n + procCpuSeconds(f.pid), 0) });
    const pcpu0 = processCpu();
    for (const node of target.nodes(admin)) await node.config("RESETSTAT");
    const t0 = performance.now();
    const postsAt = new Date().toISOString();
    const answeredMs: number[] = [];
    await Promise.all(envs.flatMap((env, e) => Array.from({ length: o.servicesPerEnvironment }, async (_, s) => {
      await env.api.ok("POST", `${env.base}/services`, { stackId: stacks[e].id, name: `svc${s}`, image: "local/busybox", command: ["sleep", "3600"], scale });
      answeredMs.push(performance.now() - t0);
    })));
    // When the clock started (to read the servers' logs against) and when the API answered each service.
    log(`scale: services POSTed at ${postsAt}, answered after ${answeredMs.map((ms) => Math.round(ms)).join(" ")} ms`);
    const deadline = t0 + o.timeoutMs;
    const hlen = async () => {
      let n = 0;
      for (const env of envs) n += await admin!.hlen(keys.env(env.id).instances);
      return n;
    };
    await waitFor(async () => { serversAlive(); return (await hlen()) >= o.instances; }, { what: `${o.instances} instance records`, timeoutMs: deadline - performance.now(), intervalMs: 20, maxIntervalMs: 20 });
    const placedMs = performance.now() - t0;
    // The peak up to here is placing's; what comes after is the reports written back and the API changes.
    sampleRss();
    const placingPeakRss = [...peakRss];
    const pcpu1 = processCpu();
    const placingRedisCpu = await redisCpu(target, admin) - cpu0;
    const placingCpuS = { servers: pcpu1.servers.map((c, k) => c - pcpu0.servers[k]), agents: pcpu1.agents - pcpu0.agents, redis: placingRedisCpu };
    log(`scale: ${o.instances} placed in ${Math.round(placedMs)} ms (CPU s meanwhile: servers ${placingCpuS.servers.map((c) => c.toFixed(1)).join(" ")}, agents ${placingCpuS.agents.toFixed(1)}, Redis ${placingRedisCpu.toFixed(1)}; Redis's busiest commands: ${await busiestCommands(target, admin, 8)})`);
    // API changes while the leaders write the agents' first reports back (every instance's status):
    // each environment's stack edited, and a service scaled to the scale it has (read, no write).
    // Sent once placement is done, so they do not slow what placedMs measures.
    const updateAnswers = Promise.all(envs.map(async (env, e) => {
      const u0 = performance.now();
      await env.api.ok("PATCH", `${env.base}/stacks/${stacks[e].id}`, { description: `edited during the reports, ${new Date().toISOString()}` });
      const patchMs = performance.now() - u0;
      const svc = (await env.api.ok("GET", `${env.base}/services?limit=1`)).data[0];
      const s0 = performance.now();
      await env.api.ok("POST", `${env.base}/services/${svc.id}?action=scale`, { scale });
      return { patchMs, scaleMs: performance.now() - s0 };
    }));
    const fleetStats = async () => Promise.all(fleets.map((f) => f.stats()));
    await waitFor(async () => { serversAlive(); return (await fleetStats()).reduce((n, s) => n + s.running, 0) >= o.instances; },
      { what: "every instance reported running by the agents", timeoutMs: deadline - performance.now(), intervalMs: 100, maxIntervalMs: 100 });
    const convergedMs = performance.now() - t0;
    const cpu1 = await redisCpu(target, admin);
    log(`scale: agents report all running at ${Math.round(convergedMs)} ms`);
    await waitFor(async () => {
      serversAlive();
      for (const env of envs) {
        const list = await env.api.ok("GET", `${env.base}/services?limit=100`);
        if (!list.data.every((s: { transitioning: string }) => s.transitioning === "no")) return false;
      }
      return true;
    }, { what: "every service settled", timeoutMs: deadline - performance.now(), intervalMs: 100, maxIntervalMs: 250 });
    const settledMs = performance.now() - t0;
    const updates = await updateAnswers;
    const updateAnsweredMs = { stackPatch: updates.map((u) => Math.round(u.patchMs)), serviceScale: updates.map((u) => Math.round(u.scaleMs)) };
    log(`scale: API changes once placed, answered after: stack PATCH ${updateAnsweredMs.stackPatch.join(" ")} ms; service scale ${updateAnsweredMs.serviceScale.join(" ")} ms`);
    clearInterval(rssTimer);
    rssTimer = undefined;
    sampleRss();
    const hwm = servers.map((s) => procStatusMb(s.pid, "VmHWM"));
    log(`scale: servers' peak RSS ${peakRss.map((mb, k) => `${Math.round(mb)} MB at ${peakAt[k]}`).join(", ")} (placing ended ${Math.round(placedMs)} ms after ${postsAt})`);

    // Correctness: every instance once, in its service's slots, held by exactly one agent.
    const records: InstanceRecord[] = [];
    const rawByEnv: Array<Array<[string, string]>> = [];
    for (const env of envs) {
      const raw = await admin.hgetall(keys.env(env.id).instances);
      rawByEnv.push(Object.entries(raw));
      for (const text of Object.values(raw)) records.push(JSON.parse(text) as InstanceRecord);
    }
    const distinctIds = new Set(records.map((r) => r.id)).size;
    const distinctSlots = new Set(records.map((r) => `${r.envId}/${r.serviceId}/${r.index}`)).size;
    const perService = new Map<string, number>();
    for (const r of records) perService.set(`${r.envId}/${r.serviceId}`, (perService.get(`${r.envId}/${r.serviceId}`) ?? 0) + 1);
    const perServiceOk = perService.size === o.environments * o.servicesPerEnvironment && [...perService.values()].every((n) => n === scale);
    const held = (await Promise.all(fleets.map((f) => f.placements()))).flat();
    const heldIds = held.flatMap((h) => h.instanceIds);
    const agentDuplicates = heldIds.length - new Set(heldIds).size;
    const stats: FleetStats[] = await fleetStats();
    const agentErrors = stats.reduce((n, s) => n + s.errors, 0);
    // The heartbeat cadences the hosts ended on (a large environment stretches it: runtime/protocol/heartbeat-cadence.ts).
    const cadences: Record<string, number> = {};
    for (const f of stats) for (const [c, n] of Object.entries(f.cadences)) cadences[c] = (cadences[c] ?? 0) + n;
    const heartbeatCadences = Object.entries(cadences).map(([c, n]) => `${n} hosts every ${c.replace("/", " ms, TTL ")}`).join("; ");
    const leaderIds = await Promise.all(envs.map((env) => admin!.get(keys.env(env.id).leader)));
    const envsPerServer = servers.map((_, k) => leaderIds.filter((l) => l?.startsWith(`scale-${k}:`)).length);

    // The floor: the same record writes (the records as drover stored them, each with an event
    // entry), the servers stopped, one connection per server writing its environments in turn.
    for (const s of servers) await s.stop();
    const floorKeys = makeKeys(`${keyPrefix}floor`);
    const writers = servers.map(() => target!.connect());
    await Promise.all(writers.map((w) => w.ping())); // connected before the clock starts
    const f0 = performance.now();
    await Promise.all(writers.map(async (w, k) => {
      for (const [e, env] of envs.entries()) {
        if (leaderOf(e) !== k) continue;
        const ek = floorKeys.env(env.id);
        const entries = rawByEnv[e];
        for (let from = 0; from < entries.length; from += 5000) {
          const p = w.pipeline();
          for (const [id, text] of entries.slice(from, from + 5000)) {
            p.hset(ek.instances, id, text);
            p.xadd(ek.events, "MAXLEN", "~", "10000", "*", "type", "instance", "action", "created", "id", id, "rev", "1");
          }
          await p.exec();
        }
      }
    }));
    const floorMs = performance.now() - f0;
    for (const w of writers) w.disconnect();

    let aclSync: AclSyncCost | undefined;
    if (o.measureAclSync && o.redis === "single") {
      aclSync = await measureAclSync(target.url, admin as Redis, hostUsernamePrefix(keys));
      log(`scale: acl sync at ${aclSync.users} users: catch-up ${Math.round(aclSync.catchUpMs)} ms, steady ${Math.round(aclSync.steadyMs)} ms`);
    }

    return {
      placementsPerSec: (o.instances / placedMs) * 1000,
      floorPlacementsPerSec: (o.instances / floorMs) * 1000,
      placedMs, floorMs, convergedMs, settledMs, registerMs, registerRetries, registerApiMeanMs, registerStartMeanMs,
      serverPeakRssMb: peakRss, serverPlacingPeakRssMb: placingPeakRss, serverHwmRssMb: hwm,
      redisCpuS: cpu1 - cpu0,
      placingCpuS,
      redisCpuCores: (cpu1 - cpu0) / (convergedMs / 1000),
      envsPerServer,
      updateAnsweredMs,
      records: records.length, distinctIds, distinctSlots, perServiceOk,
      agentHeld: heldIds.length, agentDuplicates, agentErrors, heartbeatCadences,
      redisKind: target.kind,
      ...(aclSync ? { aclSync } : {}),
    };
  } finally {
    if (rssTimer) clearInterval(rssTimer);
    await Promise.all(fleets.map((f) => f.stop().catch(() => undefined)));
    for (const s of servers) await s.stop().catch(() => undefined);
    admin?.disconnect();
    await target?.stop();
    if (process.env.DROVER_BENCH_KEEP) console.error(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}
