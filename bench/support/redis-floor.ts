/**
 * The raw Redis floor of the `scale` bench's writes (bench/support/scale-run.ts), measured on
 * one Redis and on Redis Clusters, to tell what the cluster itself can give on this machine:
 * per instance an HSET of its record into the environment's instances hash and an XADD to its
 * events stream, in pipelines of `pipeline`, by `writers` writers each writing the
 * environments it owns (environment e → writer e mod W) one after another, as the scale
 * floor does. Unlike the scale floor, each writer is a process of its own, so one Node event
 * loop does not cap what the Redis side shows. Measured: wall time, and CPU seconds of every
 * Redis process (primaries and replicas apart) and of the writers.
 */
import * as fs from "fs";
import Redis, { Cluster } from "ioredis";
import { tmpdir } from "os";
import { join } from "path";
import { performance } from "perf_hooks";
import { makeKeys } from "../../runtime/protocol/keys";
import { keySlot } from "../../runtime/store/key-slot";
import { startRedisCluster, type RedisClusterHandle } from "../../test/support/redis-cluster";
import { startPrivateRedis } from "../../test/support/redis-server";
import { IpcChild, serveRequests } from "./ipc-child";

export interface FloorOptions {
  records: number;
  environments: number;
  writers: number;
  pipeline: number;
}

/** One target's run. */
export interface FloorRun {
  ms: number;
  perSec: number;
  /** CPU seconds: all Redis processes, the primaries (or the one Redis), the replicas, the writer processes. */
  redisCpuS: number;
  primaryCpuS: number;
  replicaCpuS: number;
  writerCpuS: number;
}

type WriterRequest =
  | { op: "write"; url: string; cluster: boolean; prefix: string; envIds: string[]; perEnv: number; pipeline: number }
  | { op: "stop" };

/**
 * A record the size of drover's instance records in the scale bench (a container spec with
 * image, command, labels and an address), so each HSET moves as many bytes.
 */
export function floorRecord(envId: string, n: number): { id: string; text: string } {
  const id = `i${envId}${String(n).padStart(7, "0")}`;
  return {
    id,
    text: JSON.stringify({
      id, envId, kind: "container", serviceId: `s${envId}0001`, stackId: `k${envId}0001`, hostId: `h${String(n % 5000).padStart(5, "0")}`,
      name: `scale-svc0-${n + 1}`, index: n + 1, specVersion: 1,
      spec: { image: "local/busybox", command: ["sleep", "3600"], env: {}, labels: { "io.rancher.stack.name": "scale", "io.rancher.stack_service.name": "scale/svc0" }, ports: [], restartPolicy: "always" },
      ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, state: "requested", createdAt: "2026-12-03T07:00:00.000Z", rev: 1,
    }),
  };
}

function writerMain(): void {
  serveRequests<WriterRequest>(async (req) => {
    if (req.op === "stop") return {};
    const client = req.cluster
      ? new Cluster(req.url.replace(/^redis\+cluster:\/\//, "").split(",").map((hp) => ({ host: hp.split(":")[0], port: Number(hp.split(":")[1]) })), { redisOptions: { maxRetriesPerRequest: 2 } })
      : new Redis(req.url, { maxRetriesPerRequest: 2 });
    try {
      await client.ping(); // connected (and the slots known) before the clock starts
      const keys = makeKeys(req.prefix);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (const envId of req.envIds) {
        const ek = keys.env(envId);
        for (let from = 0; from < req.perEnv; from += req.pipeline) {
          const p = client.pipeline();
          for (let n = from; n < Math.min(req.perEnv, from + req.pipeline); n++) {
            const r = floorRecord(envId, n);
            p.hset(ek.instances, r.id, r.text);
            p.xadd(ek.events, "MAXLEN", "~", "10000", "*", "type", "instance", "action", "created", "id", r.id, "rev", "1");
          }
          const results = await p.exec();
          const failed = results?.find(([err]) => err);
          if (failed) throw failed[0];
        }
      }
      const cpu = process.cpuUsage(cpu0);
      return { ms: performance.now() - t0, cpuS: (cpu.user + cpu.system) / 1e6 };
    } finally {
      client.disconnect();
    }
  });
}

const cpuSeconds = (info: string) => Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)![1]);

/** A target's nodes as admin connections, with their role. */
interface FloorTarget {
  kind: string;
  url: string;
  cluster: boolean;
  nodes: Array<{ client: Redis; primary: boolean }>;
  /** The port of the primary serving a slot (clusters only). */
  primaryOf?(slot: number): Promise<number>;
  primaryPorts: number[];
  stop(): Promise<void>;
}

async function singleTarget(): Promise<FloorTarget> {
  const r = await startPrivateRedis();
  const client = r.client();
  return { kind: "one redis-server", url: r.url, cluster: false, nodes: [{ client, primary: true }], primaryPorts: [], stop: () => r.stop() };
}

async function clusterTarget(replicasPerPrimary: number): Promise<FloorTarget> {
  // Redis's default node timeout: a loaded machine must not fail primaries over mid-measurement.
  const c: RedisClusterHandle = await startRedisCluster({ primaries: 3, replicasPerPrimary, nodeTimeoutMs: 15_000 });
  const nodes = await Promise.all(c.nodes.map(async (port) => {
    const client = c.node(port);
    return { client, primary: ((await client.call("ROLE")) as unknown[])[0] === "master", port };
  }));
  return {
    kind: `redis cluster (3 primaries, ${replicasPerPrimary} replica${replicasPerPrimary === 1 ? "" : "s"} each)`, url: c.url, cluster: true, nodes,
    primaryOf: (slot) => c.primaryOf(slot), primaryPorts: nodes.filter((n) => n.primary).map((n) => n.port), stop: () => c.stop(),
  };
}

/**
 * Environment ids whose slots spread over the cluster's primaries as evenly as they can
 * (environment e on primary e mod 3): the best case for a cluster, so the floor is its ceiling.
 */
async function spreadEnvIds(target: FloorTarget, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let e = 0, n = 0; ids.length < count; n++) {
    const id = `fl${n.toString(36)}`;
    if (target.primaryOf && (await target.primaryOf(keySlot(`{${id}}`))) !== target.primaryPorts[e % target.primaryPorts.length]) continue;
    ids.push(id);
    e++;
  }
  return ids;
}

async function runOnce(target: FloorTarget, writers: Array<IpcChild<WriterRequest>>, o: FloorOptions, round: number): Promise<FloorRun> {
  const envIds = await spreadEnvIds(target, o.environments);
  const prefix = `floor${round}`;
  const perEnv = o.records / o.environments;
  const cpu = async () => {
    const each = await Promise.all(target.nodes.map(async (n) => ({ primary: n.primary, s: cpuSeconds(await n.client.info("cpu")) })));
    return { primary: each.filter((x) => x.primary).reduce((a, x) => a + x.s, 0), replica: each.filter((x) => !x.primary).reduce((a, x) => a + x.s, 0) };
  };
  const c0 = await cpu();
  const t0 = performance.now();
  const results = await Promise.all(writers.map((w, k) => w.call<{ ms: number; cpuS: number }>({
    op: "write", url: target.url, cluster: target.cluster, prefix, perEnv, pipeline: o.pipeline,
    envIds: envIds.filter((_, e) => e % writers.length === k),
  })));
  const ms = performance.now() - t0;
  const c1 = await cpu();
  // Emptied for the next round (a replica follows its primary's FLUSHALL).
  for (const n of target.nodes) if (n.primary) await n.client.flushall();
  const primaryCpuS = c1.primary - c0.primary;
  const replicaCpuS = c1.replica - c0.replica;
  return { ms, perSec: (o.records / ms) * 1000, redisCpuS: primaryCpuS + replicaCpuS, primaryCpuS, replicaCpuS, writerCpuS: results.reduce((a, r) => a + r.cpuS, 0) };
}

/**
 * `rounds` rounds over the targets in turn (one Redis, the 3+3 cluster, the 3+0 cluster),
 * each target's median run (by wall time) kept: the machine is shared and noisy, and
 * alternating keeps a burst of someone else's load from landing on one target only.
 */
export async function runFloor(o: FloorOptions & { rounds: number; log?: (line: string) => void }): Promise<Record<"single" | "cluster" | "clusterNoReplicas", FloorRun>> {
  const log = o.log ?? ((line: string) => console.error(line));
  const dir = fs.mkdtempSync(join(tmpdir(), "drover-floor-"));
  const writers: Array<IpcChild<WriterRequest>> = [];
  const targets: FloorTarget[] = [];
  try {
    for (let k = 0; k < o.writers; k++) writers.push(new IpcChild<WriterRequest>(__filename, ["--floor-writer"], join(dir, `writer-${k}.log`)));
    // One at a time, each kept as soon as it runs, so a failed start leaves none behind.
    targets.push(await singleTarget());
    targets.push(await clusterTarget(1));
    targets.push(await clusterTarget(0));
    const runs: FloorRun[][] = targets.map(() => []);
    for (let round = 0; round < o.rounds; round++) {
      for (const [i, target] of targets.entries()) {
        const r = await runOnce(target, writers, o, round);
        runs[i].push(r);
        log(`floor: round ${round + 1}, ${target.kind}: ${Math.round(r.perSec)} records/s (${Math.round(r.ms)} ms; Redis CPU ${r.redisCpuS.toFixed(2)} s, of it replicas ${r.replicaCpuS.toFixed(2)} s; writers ${r.writerCpuS.toFixed(2)} s)`);
      }
    }
    const median = (list: FloorRun[]) => [...list].sort((a, b) => a.ms - b.ms)[Math.floor(list.length / 2)];
    return { single: median(runs[0]), cluster: median(runs[1]), clusterNoReplicas: median(runs[2]) };
  } finally {
    await Promise.all(writers.map((w) => w.stop().catch(() => undefined)));
    for (const t of targets) await t.stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module && process.argv[2] === "--floor-writer") writerMain();
