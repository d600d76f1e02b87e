/**
 * What TLS on every hop costs the control plane: the control-plane workload (1,000 simulated
 * hosts, 10,000 instances to `active`; bench/control-plane.bench.ts) run twice in one process,
 * plaintext then TLS (API over HTTPS, Redis TLS only with client certificates: 2,000 agent
 * connections plus the server's, each a TLS session). value = instances/s with TLS, baseline
 * = without, ratio = value / baseline (goal >= 0.8). Server and Redis memory of both runs in
 * `extra`, measured with everything connected and all instances active.
 */
import { measureControlPlane } from "./control-plane.bench";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";

const GOAL = 0.8;

export const benchmark: Benchmark = {
  name: "control-plane-tls",
  summary: "control-plane instances/s with TLS on every hop / without (1,000 simulated agents)",
  async run(): Promise<BenchResult> {
    const plain = await measureControlPlane({ tls: false });
    const tls = await measureControlPlane({ tls: true });
    const ratio = tls.value / plain.value;
    const pick = (r: BenchResult, prefix: string) => Object.fromEntries(
      ["roundsPerSec", "registerPerSec", "serverCpuS", "redisCpuS", "serverIdleCpuCores", "serverRssMb", "serverPeakRssMb", "redisRssMb", "redisUsedMemoryMb"]
        .filter((k) => r.extra?.[k] !== undefined).map((k) => [`${prefix}${k[0].toUpperCase()}${k.slice(1)}`, r.extra![k]]));
    return {
      name: "control-plane-tls",
      unit: "instances/s",
      value: tls.value,
      baseline: plain.value,
      ratio: round(ratio, 4),
      goal: `>= ${GOAL} of plaintext's instances/s with TLS on the API and Redis (mutual TLS), same workload, same run`,
      ok: ratio >= GOAL,
      extra: { ...pick(plain, "plain"), ...pick(tls, "tls") },
    };
  },
};

