/**
 * Incremental reconcile at 1,000 hosts: what an agent's observed report costs the server.
 * Agents rewrite their observed document after each of their reconciles (the periodic resync
 * too), so most reports repeat the last one. Before: each report made the environment dirty
 * and ran a full pass (read every record and every host's documents, plan, compare). Now:
 * one GET of the reporting host's document, compared with the digest of what the last pass
 * read (runtime/reconcile/observed-fingerprint.ts); a pass only when it differs.
 *
 * One environment of 1,000 hosts and 10,000 instances (10 services of scale 1,000) on the
 * shared Redis under a key prefix of its own, settled (placed, every instance reported
 * running, passes until one plans nothing). value = the report check's median ms; baseline =
 * a full pass's median ms on the same settled environment (what each such report cost
 * before); ratio = value / baseline. Goal on the value: under 5 ms per report.
 *
 * The "changed report" row (extra changedReport*): a host reports one of its containers
 * restarted by its engine (still running; new start time, restart count + 1), which used to
 * cost a full pass. Now the incremental path (runtime/reconcile/report-apply.ts) settles it:
 * GET, HMGET of the host's instance records and their services, one fenced write.
 * changedReportRatio = its median ms / the full pass's. Checked after: a full pass then
 * plans nothing (the incremental writes were exactly the pass's).
 */
import { randomBytes } from "crypto";
import Redis from "ioredis";
import { performance } from "perf_hooks";
import type { HostObservedState, HostRecord, ServiceRecord, StackRecord } from "../runtime/protocol/model";
import { makeKeys } from "../runtime/protocol/keys";
import { observedChanged, reconcileEnvironment, type PassResult } from "../runtime/reconcile/env-reconciler";
import { LeaderLease } from "../runtime/store/leader-lease";
import { applyReports } from "../runtime/reconcile/report-apply";
import { RedisStore } from "../runtime/store/redis-store";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { median } from "./support/procs";

const HOSTS = 1000;
const SERVICES = 10;
const SCALE = 1000;
const PASS_ROUNDS = 7;
const CHECK_ROUNDS = 200;
const GOAL_MS = 5;

export const benchmark: Benchmark = {
  name: "report-pass",
  summary: "ms an agent's repeated observed report costs the server at 1,000 hosts (vs a full pass, what it cost before)",
  async run(): Promise<BenchResult> {
    const redis = new Redis(process.env.DROVER_TEST_REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: 1 });
    const prefix = `bench-rp-${randomBytes(4).toString("hex")}`;
    const keys = makeKeys(prefix);
    const store = new RedisStore(redis, keys);
    try {
      const envId = "e1";
      const now = () => new Date().toISOString();
      await store.createEnvironment({ id: envId, name: "report-pass", network: { cidr: "10.0.0.0/8", hostSubnetPrefix: 24 }, state: "active", createdAt: now() }, "k-rp", "t-rp");
      const hosts: HostRecord[] = Array.from({ length: HOSTS }, (_, i) => ({ id: `h${i}`, envId, name: `host-${i}`, labels: {}, state: "active", deactivated: false, createdAt: now(), rev: 0 }));
      for (let i = 0; i < HOSTS; i += 200) await store.write(envId, { put: hosts.slice(i, i + 200).map((record) => ({ kind: "host" as const, record })) });
      const stack: StackRecord = { id: "st1", envId, name: "app", state: "active", createdAt: now(), rev: 0 };
      const services: ServiceRecord[] = Array.from({ length: SERVICES }, (_, k) => ({
        id: `1s${k}`, envId, stackId: "st1", name: `svc${k}`, specVersion: 1, state: "active", transitioning: "yes", createdAt: now(), rev: 0,
        spec: { image: "local/busybox", env: {}, ports: [], scale: SCALE, global: false, links: {}, labels: {}, restartPolicy: { name: "always" } },
      }));
      await store.write(envId, { put: [{ kind: "stack", record: stack }, ...services.map((record) => ({ kind: "service" as const, record }))] });
      const beat = redis.pipeline();
      for (const h of hosts) beat.set(keys.host(envId, h.id).heartbeat, "{}", "PX", 600_000);
      await beat.exec();
      const lease = await new LeaderLease(redis, keys).acquireOrRenew(envId, "bench", 600_000);
      const deps = { store, redis, keys, graceMs: 30_000, log: () => undefined };
      const pass = () => reconcileEnvironment(envId, lease.fence!, deps);
      const settle = async () => {
        for (let k = 0; k < 20; k++) if (!(await pass()).changed) return;
        throw new Error("the environment did not settle in 20 passes");
      };
      await settle();
      // Every host reports its instances running, as its agent would.
      const instances = await store.list(envId, "instance");
      const byHost = new Map<string, Record<string, HostObservedState["instances"][string]>>();
      for (const i of instances) {
        const m = byHost.get(i.hostId) ?? {};
        m[i.id] = { state: "running", containerId: `c-${i.id}`, startedAt: "2026-01-01T00:00:00.000Z", restartCount: 0 };
        byHost.set(i.hostId, m);
      }
      const reports = redis.pipeline();
      for (const h of hosts) {
        const observed: HostObservedState = { hostId: h.id, appliedGeneration: 1, instances: byHost.get(h.id) ?? {}, reportedAt: now() };
        reports.set(keys.host(envId, h.id).observed, JSON.stringify(observed));
      }
      await reports.exec();
      await settle();

      let last: PassResult | undefined;
      const full: number[] = [];
      for (let r = 0; r < PASS_ROUNDS; r++) {
        const t0 = performance.now();
        last = await pass();
        full.push(performance.now() - t0);
        if (last.changed) throw new Error("a settled environment's pass planned something");
      }
      // A host's agent reports again: same instances, a new time.
      const checks: number[] = [];
      let passesNeeded = 0;
      for (let r = 0; r < CHECK_ROUNDS; r++) {
        const h = hosts[r % HOSTS];
        const observed: HostObservedState = { hostId: h.id, appliedGeneration: 1, instances: byHost.get(h.id) ?? {}, reportedAt: now() };
        await redis.set(keys.host(envId, h.id).observed, JSON.stringify(observed));
        const t0 = performance.now();
        if (await observedChanged(envId, [h.id], last!.observed, store)) passesNeeded++;
        checks.push(performance.now() - t0);
      }
      // Changed reports: one container of the host restarted by its engine.
      const seen = { observed: { ...last!.observed }, observedRest: last!.observedRest, hostInstances: last!.hostInstances };
      const changed: number[] = [];
      let changedNeedingAPass = 0;
      let updated = 0;
      for (let r = 0; r < CHECK_ROUNDS; r++) {
        const h = hosts[(r * 7) % HOSTS];
        const mine = { ...byHost.get(h.id) };
        const [first] = Object.keys(mine);
        mine[first] = { ...mine[first], containerId: `c-${first}-${r}`, startedAt: new Date().toISOString(), restartCount: mine[first].restartCount + 1 };
        byHost.set(h.id, mine);
        const observed: HostObservedState = { hostId: h.id, appliedGeneration: 1, instances: mine, reportedAt: now() };
        await redis.set(keys.host(envId, h.id).observed, JSON.stringify(observed));
        const t0 = performance.now();
        const outcome = await applyReports(envId, [h.id], seen, lease.fence!, store);
        changed.push(performance.now() - t0);
        if (outcome.pass !== undefined) changedNeedingAPass++;
        updated += outcome.updated;
      }
      const after = await pass();
      if (after.changed) throw new Error("a full pass after the incremental updates planned something: they differ from what it would write");
      const changedMs = median(changed);
      const value = median(checks);
      const baseline = median(full);
      return {
        name: "report-pass",
        unit: "ms/report",
        value: round(value, 3),
        baseline: round(baseline, 1),
        ratio: round(value / baseline, 5),
        goal: `< ${GOAL_MS} ms per repeated report at ${HOSTS} hosts / ${instances.length} instances`,
        ok: value < GOAL_MS && passesNeeded === 0 && changedNeedingAPass === 0 && updated === CHECK_ROUNDS,
        extra: { hosts: HOSTS, instances: instances.length, fullPassMsMedian: round(baseline, 1), reportCheckMsMedian: round(value, 3), reportsNeedingAPass: passesNeeded, reportsChecked: CHECK_ROUNDS,
          changedReportMsMedian: round(changedMs, 3), changedReportRatio: round(changedMs / baseline, 5),
          changedReportsNeedingAPass: changedNeedingAPass, changedReportRecordsUpdated: updated, passAfterChangedReports: "planned nothing" },
      };
    } finally {
      // Bench-only clean-up of its own prefix (product code never SCANs).
      let cursor = "0";
      do {
        const [next, found] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
        cursor = next;
        if (found.length) await redis.del(...found);
      } while (cursor !== "0");
      redis.disconnect();
    }
  },
};
