/**
 * cluster-floor: what a Redis Cluster can give on this machine, with no drover in the way.
 * The `scale` bench's raw floor writes (bench/support/redis-floor.ts: an HSET of each
 * instance record and an XADD of its event, pipelined, by as many writers as the scale bench
 * has servers) on one redis-server, on a 3-primary cluster with a replica each (what `scale`
 * runs with SCALE_REDIS=cluster), and on 3 primaries without replicas.
 *
 * value = cluster (3+3) records/s; baseline = one Redis, same writes, same writers;
 * ratio = cluster / one Redis. That ratio bounds drover's own cluster/one ratio in `scale`
 * (drover writes these records and more), so the goal there (>= 1.5) is printed here for
 * comparison, not as this bench's target. Sizes: FLOOR_RECORDS (default 100,000),
 * FLOOR_ENVIRONMENTS (4), FLOOR_WRITERS (3), FLOOR_PIPELINE (5,000), FLOOR_ROUNDS (3; each
 * target's median round is kept).
 */
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { runFloor } from "./support/redis-floor";

function num(name: string, def: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

export const benchmark: Benchmark = {
  name: "cluster-floor",
  summary: "raw floor of scale's writes: 3+3 Redis Cluster vs one Redis (and 3+0), same writers; Redis CPU per record",
  async run(): Promise<BenchResult> {
    const o = { records: num("FLOOR_RECORDS", 100_000), environments: num("FLOOR_ENVIRONMENTS", 4), writers: num("FLOOR_WRITERS", 3), pipeline: num("FLOOR_PIPELINE", 5000), rounds: num("FLOOR_ROUNDS", 3) };
    if (o.records % o.environments !== 0) throw new Error(`FLOOR_RECORDS (${o.records}) must divide evenly over FLOOR_ENVIRONMENTS (${o.environments})`);
    const r = await runFloor(o);
    const usPerRecord = (cpuS: number) => round((cpuS * 1e6) / o.records, 1);
    return {
      name: "cluster-floor",
      unit: "records/s",
      value: round(r.cluster.perSec, 0),
      baseline: round(r.single.perSec, 0),
      ratio: round(r.cluster.perSec / r.single.perSec, 4),
      goal: "informational: the ceiling of scale's cluster/one-Redis ratio on this machine (scale's goal for drover: >= 1.5)",
      ok: r.cluster.perSec / r.single.perSec >= 1.5,
      extra: {
        records: o.records, environments: o.environments, writers: o.writers, pipeline: o.pipeline, rounds: o.rounds,
        singlePerSec: round(r.single.perSec, 0), clusterPerSec: round(r.cluster.perSec, 0), clusterNoReplicasPerSec: round(r.clusterNoReplicas.perSec, 0),
        clusterNoReplicasRatio: round(r.clusterNoReplicas.perSec / r.single.perSec, 4),
        singleRedisCpuUsPerRecord: usPerRecord(r.single.redisCpuS),
        clusterRedisCpuUsPerRecord: usPerRecord(r.cluster.redisCpuS), clusterReplicaCpuUsPerRecord: usPerRecord(r.cluster.replicaCpuS),
        clusterNoReplicasRedisCpuUsPerRecord: usPerRecord(r.clusterNoReplicas.redisCpuS),
        writerCpuUsPerRecord: `${usPerRecord(r.single.writerCpuS)} ${usPerRecord(r.cluster.writerCpuS)} ${usPerRecord(r.clusterNoReplicas.writerCpuS)}`,
        cores: require("os").cpus().length,
      },
    };
  },
};
