/**
 * Scheduler throughput: 10,000 instances of 40 services onto 1,000 hosts with a mix of
 * rules (hard host_label, container_label_ne anti-affinity within and across services,
 * soft rules, host ports), the pure function on one core. Baseline in the same run: a
 * naive "first host with the fewest instances" loop over the same snapshot, no rules.
 *
 * `scheduler-5k`: the same rules at 5,000 hosts and 100,000 instances, to show placement
 * cost grows no faster than the work. The per-service counts grow as far as the hard rules
 * allow (a web service's host port and a db service's self anti-affinity cap them at one per
 * eligible host); cache and worker services take the rest.
 */
import { median } from "./support/procs";
import { performance } from "perf_hooks";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { ClusterSnapshot, HostSnapshot, ScheduleRequest, indexSnapshot, scheduleAndCommit } from "../runtime/scheduler";

interface Size {
  name: string;
  hosts: number;
  /** Instances per service of each kind (10 services of each). */
  db: number;
  web: number;
  cache: number;
  worker: number;
  rounds: number;
  goal: number;
}

const SMALL: Size = { name: "scheduler", hosts: 1000, db: 200, web: 400, cache: 200, worker: 200, rounds: 7, goal: 20_000 };
const LARGE: Size = { name: "scheduler-5k", hosts: 5000, db: 1000, web: 2000, cache: 3500, worker: 3500, rounds: 3, goal: 100_000 };

function makeSnapshot(size: Size): ClusterSnapshot {
  const hosts: HostSnapshot[] = [];
  for (let i = 0; i < size.hosts; i++) {
    const id = `1h${i}`;
    hosts.push({
      id,
      name: `host-${i}`,
      labels: { zone: "abcd"[i % 4], disk: i % 3 === 0 ? "ssd" : "hdd", tier: i % 5 < 2 ? "front" : "back" },
      state: i % 50 === 7 ? "reconnecting" : "active",
      // Two system containers per host, like Rancher's network agent and a log shipper.
      instances: [0, 1].map((k) => ({
        id: `${id}-sys${k}`,
        serviceId: `sys${k}`,
        name: `sys${k}-${i}`,
        labels: { "io.rancher.stack_service.name": `system/sys${k}`, app: `sys${k}` },
        ports: k === 0 ? [{ port: 500, protocol: "udp" as const }, { port: 4500, protocol: "udp" as const }] : [],
      })),
    });
  }
  return { hosts };
}

const self = "io.rancher.stack_service.name=${stack_name}/${service_name}";

/** 10 web (400 each), 10 db, 10 cache, 10 worker (200 each): 10,000 instances (SMALL). */
function makeRequests(size: Size): ScheduleRequest[] {
  const requests: ScheduleRequest[] = [];
  const add = (name: string, count: number, labels: Record<string, string>, ports: ScheduleRequest["service"]["ports"] = []) =>
    requests.push({ service: { id: `1s-${name}`, name, stackName: "bench", labels, ports }, count });
  for (let k = 0; k < 10; k++) {
    add(`db${k}`, size.db, {
      app: "db",
      "io.rancher.scheduler.affinity:container_label_ne": `${self},app=cache`,
      "io.rancher.scheduler.affinity:host_label_soft": "disk=ssd",
    });
  }
  for (let k = 0; k < 10; k++) {
    add(`web${k}`, size.web, {
      app: "web",
      "io.rancher.scheduler.affinity:host_label_ne": "zone=d",
      "io.rancher.scheduler.affinity:container_label_soft_ne": self,
    }, [{ port: 8000 + k, protocol: "tcp" }]);
  }
  for (let k = 0; k < 10; k++) {
    add(`cache${k}`, size.cache, {
      app: "cache",
      "io.rancher.scheduler.affinity:host_label": "tier=back",
      "io.rancher.scheduler.affinity:container_label_soft_ne": "app=db",
    });
  }
  for (let k = 0; k < 10; k++) {
    add(`worker${k}`, size.worker, {
      app: "worker",
      "io.rancher.scheduler.affinity:host_label": "tier=back",
      "io.rancher.scheduler.affinity:container_label_soft": "app=cache",
      "io.rancher.scheduler.affinity:host_label_soft_ne": "disk=ssd",
    });
  }
  return requests;
}

function runDrover(snapshot: ClusterSnapshot, requests: ScheduleRequest[]): { ms: number; placed: number; unplaced: number } {
  const t0 = performance.now();
  const index = indexSnapshot(snapshot);
  let placed = 0;
  let unplaced = 0;
  for (const [i, request] of requests.entries()) {
    const result = scheduleAndCommit(index, request, i);
    placed += result.placements.length;
    unplaced += result.unplaceable?.count ?? 0;
  }
  return { ms: performance.now() - t0, placed, unplaced };
}

/** Worst case for drover: one request per instance, so every call ranks every host again. */
function runDroverOneAtATime(snapshot: ClusterSnapshot, requests: ScheduleRequest[]): { ms: number; placed: number } {
  const t0 = performance.now();
  const index = indexSnapshot(snapshot);
  let placed = 0;
  for (const request of requests) {
    for (let n = 0; n < (request.count as number); n++) placed += scheduleAndCommit(index, { ...request, count: 1 }, n).placements.length;
  }
  return { ms: performance.now() - t0, placed };
}

function runNaive(snapshot: ClusterSnapshot, total: number): { ms: number; placed: number } {
  const t0 = performance.now();
  const counts = snapshot.hosts.map((h) => h.instances.length);
  const chosen: number[] = [];
  for (let n = 0; n < total; n++) {
    let best = 0;
    for (let h = 1; h < counts.length; h++) if (counts[h] < counts[best]) best = h;
    counts[best]++;
    chosen.push(best);
  }
  return { ms: performance.now() - t0, placed: chosen.length };
}

export const benchmark: Benchmark = makeBenchmark(SMALL);
export const benchmarkLarge: Benchmark = makeBenchmark(LARGE);

function makeBenchmark(size: Size): Benchmark {
  const instances = 10 * (size.db + size.web + size.cache + size.worker);
  const HOSTS = size.hosts;
  const ROUNDS = size.rounds;
  const GOAL = size.goal;
  return {
    name: size.name,
    summary: `placements/s, ${instances.toLocaleString("en-US")} instances on ${HOSTS.toLocaleString("en-US")} hosts with affinity rules (vs naive fewest-instances loop)`,
    async run(): Promise<BenchResult> {
      const snapshot = makeSnapshot(size);
      const requests = makeRequests(size);
      const total = requests.reduce((n, r) => n + (r.count as number), 0);
      runDrover(snapshot, requests); // warm-up for the JIT
      runNaive(snapshot, total);

      const drover: number[] = [];
      const naive: number[] = [];
      let last = { ms: 0, placed: 0, unplaced: 0 };
      for (let r = 0; r < ROUNDS; r++) {
        last = runDrover(snapshot, requests);
        drover.push(last.ms);
        naive.push(runNaive(snapshot, total).ms);
      }
      // One request per instance ranks every host per instance: quadratic, so only at the small size.
      const oneAtATime = instances <= 20_000 ? runDroverOneAtATime(snapshot, requests) : undefined;
      const value = (last.placed / median(drover)) * 1000;
      const baseline = (total / median(naive)) * 1000;
      return {
        name: size.name,
        unit: "placements/s",
        value: round(value, 0),
        baseline: round(baseline, 0),
        ratio: round(value / baseline, 3),
        goal: `>= ${GOAL} placements/s for ${instances.toLocaleString("en-US")} instances on ${HOSTS.toLocaleString("en-US")} hosts with affinity rules (one core, pure function)`,
        ok: value >= GOAL && last.unplaced === 0,
        extra: {
          hosts: HOSTS,
          instances: total,
          services: requests.length,
          placed: last.placed,
          unplaced: last.unplaced,
          droverMsMedian: round(median(drover), 2),
          naiveMsMedian: round(median(naive), 2),
          ...(oneAtATime ? { oneRequestPerInstancePerSec: round((oneAtATime.placed / oneAtATime.ms) * 1000, 0) } : {}),
        },
      };
    },
  };
}
