/**
 * Sentinel failover under a control-plane workload (bench/support/failover-run.ts): a primary,
 * two replicas, three redis-sentinel processes on loopback (down-after 1 s); `drover server`
 * on the redis+sentinel:// URL; 200 simulated agents (real protocol, own ACL users) with
 * 1,000 instances placed on them; 8 API writers creating stacks back to back. The primary is
 * SIGKILLed. value = seconds from the kill until a write started after it is acknowledged
 * (writes are acknowledged only once a replica has them: WAIT 1).
 *
 * Baseline, same run: the same failover on a fresh group with no control plane, 8 loops
 * writing one hash field each through ioredis's Sentinel client, each followed by WAIT 1.
 * ratio = drover seconds / raw seconds. Lost writes (goal 0) are counted for both.
 */
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { runFailover, runRawFailover } from "./support/failover-run";

const HOSTS = Number(process.env.FAILOVER_BENCH_HOSTS ?? 200);
const INSTANCES = Number(process.env.FAILOVER_BENCH_INSTANCES ?? 1000);
const WRITERS = 8;
const GOAL_S = 5;

export const benchmark: Benchmark = {
  name: "failover",
  summary: "seconds of refused writes and acknowledged writes lost when the Sentinel primary is killed under load (vs raw Redis writes)",
  async run(): Promise<BenchResult> {
    const drover = await runFailover({ hosts: HOSTS, instances: INSTANCES, writers: WRITERS });
    const raw = await runRawFailover(WRITERS);
    const value = drover.refusedMs / 1000;
    const baseline = raw.refusedMs / 1000;
    console.log(`failover: writes refused ${round(value, 2)} s (primary replaced after ${round(drover.promotedMs / 1000, 2)} s), ` +
      `${drover.lost.length} of ${drover.acked} acknowledged writes lost; raw: ${round(baseline, 2)} s, ${raw.lost} of ${raw.acked} lost`);
    return {
      name: "failover",
      unit: "s",
      value: round(value, 3),
      baseline: round(baseline, 3),
      ratio: round(value / baseline, 3),
      goal: `<= ${GOAL_S} s of refused writes and 0 acknowledged writes lost`,
      ok: value <= GOAL_S && drover.lost.length === 0,
      extra: {
        hosts: HOSTS,
        instances: drover.instances,
        writers: WRITERS,
        promotedS: round(drover.promotedMs / 1000, 3),
        acknowledged: drover.acked,
        failedWrites: drover.failed,
        lost: drover.lost.length,
        hostsOnNewPrimary: drover.hostsOnNewPrimary,
        instancesMoved: drover.instancesMoved,
        registeredAfter: drover.registeredAfter ? "yes" : "no",
        rawAcknowledged: raw.acked,
        rawLost: raw.lost,
      },
    };
  },
};
