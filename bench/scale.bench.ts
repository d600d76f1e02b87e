/**
 * Scale: 5,000 simulated agents (the real protocol, each with its own ACL user, registered
 * through the real API) in 4 environments, 100,000 instances (5 services per environment),
 * 3 `drover server` processes on one Redis. See bench/support/scale-run.ts for what is measured.
 *
 * value = placements/s (service POSTs until every instance record exists); baseline = the raw
 * Redis floor of the same record writes with the same parallelism; ratio = value / baseline.
 * Goals, separately: >= 10,000 placements/s, <= 300 MB peak RSS per server.
 * Sizes: SCALE_AGENTS, SCALE_INSTANCES, SCALE_ENVIRONMENTS, SCALE_SERVICES (per environment),
 * SCALE_SERVERS, SCALE_FLEETS (agent processes); SCALE_REDIS=single | cluster | redis://URL;
 * SCALE_LEASE_TTL (the servers' --lease-ttl, default 30s here); SCALE_ACL_SYNC=0 leaves out the ACL replica sync measurement (aclSync* fields).
 */
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { runScale, scaleOptionsFromEnv } from "./support/scale-run";

const GOAL_PER_SEC = 10_000;
const GOAL_RSS_MB = 300;

export const benchmark: Benchmark = {
  name: "scale",
  summary: "placements/s: 5,000 simulated agents, 100,000 instances, 3 servers on one Redis (vs the raw writes of the same records)",
  async run(): Promise<BenchResult> {
    const o = scaleOptionsFromEnv();
    const r = await runScale(o);
    const correct = r.records === o.instances && r.distinctIds === o.instances && r.distinctSlots === o.instances && r.perServiceOk
      && r.agentHeld === o.instances && r.agentDuplicates === 0;
    const peak = Math.max(...r.serverPeakRssMb, ...r.serverHwmRssMb);
    return {
      name: "scale",
      unit: "placements/s",
      value: round(r.placementsPerSec, 0),
      baseline: round(r.floorPlacementsPerSec, 0),
      ratio: round(r.placementsPerSec / r.floorPlacementsPerSec, 4),
      goal: `>= ${GOAL_PER_SEC} placements/s and <= ${GOAL_RSS_MB} MB RSS per server, ${o.agents} agents / ${o.instances} instances / ${o.servers} servers on ${r.redisKind}`,
      ok: correct && r.placementsPerSec >= GOAL_PER_SEC && peak <= GOAL_RSS_MB,
      extra: {
        leaseTtl: o.leaseTtl ?? "5s", agents: o.agents, instances: o.instances, environments: o.environments, servers: o.servers, redis: r.redisKind,
        placedMs: round(r.placedMs, 0), floorMs: round(r.floorMs, 0),
        convergedMs: round(r.convergedMs, 0), settledMs: round(r.settledMs, 0),
        registerMs: round(r.registerMs, 0), registerRetries: r.registerRetries,
        registerApiMeanMs: round(r.registerApiMeanMs, 1), registerAgentConnectMeanMs: round(r.registerStartMeanMs, 1),
        serverPeakRssMb: r.serverPeakRssMb.map((x) => round(x, 0)).join(" "),
        serverPlacingPeakRssMb: r.serverPlacingPeakRssMb.map((x) => round(x, 0)).join(" "),
        serverHwmRssMb: r.serverHwmRssMb.map((x) => round(x, 0)).join(" "),
        redisCpuCores: round(r.redisCpuCores, 2), redisCpuS: round(r.redisCpuS, 1),
        placingCpuS: `servers ${r.placingCpuS.servers.map((c) => round(c, 1)).join(" ")}, agents ${round(r.placingCpuS.agents, 1)}, Redis ${round(r.placingCpuS.redis, 1)}`,
        envsPerServer: r.envsPerServer.join(" "),
        updateAnsweredMs: `stack PATCH ${r.updateAnsweredMs.stackPatch.join(" ")}; service scale ${r.updateAnsweredMs.serviceScale.join(" ")}`,
        correct: correct ? "every instance placed once, held by one agent" : `records ${r.records} ids ${r.distinctIds} slots ${r.distinctSlots} perService ${r.perServiceOk} held ${r.agentHeld} dup ${r.agentDuplicates}`,
        agentErrors: r.agentErrors,
        heartbeatCadences: r.heartbeatCadences,
        ...(r.aclSync ? {
          aclSyncUsers: r.aclSync.users, aclSyncCatchUpMs: round(r.aclSync.catchUpMs, 0), aclSyncSteadyMs: round(r.aclSync.steadyMs, 1),
          aclSyncSteadyPrimaryCpuMs: round(r.aclSync.steadyPrimaryCpuMs, 1), aclSyncSteadyReplicaCpuMs: round(r.aclSync.steadyReplicaCpuMs, 1),
        } : {}),
      },
    };
  },
};
