/**
 * HTTP throughput and p99 latency through drover's load balancer (agent/lb driving HAProxy
 * with its rendered config: X-Forwarded-* headers, server slots, retries) against HAProxy
 * with a hand-written minimal config for the same backends, on this machine in the same run.
 *
 * Backends: 4 "instances" on 127.64.0.10-13, served by one origin HAProxy answering a fixed
 * 200 itself (so the backends are never the bottleneck, and cost both sides the same). The
 * load generator is wrk (keep-alive connections, a Lua script printing the figures as JSON);
 * both sides get the same wrk parameters, rounds alternate (drover first, then baseline,
 * then the other way round), and the round with the median drover/baseline ratio is
 * reported (for throughput, and separately for p99). CPU per request is the median of each side.
 */
import { median } from "./support/procs";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LoadBalancers } from "../agent/lb";
import { HaproxyMaster } from "../agent/lb/haproxy-process";
import { lbPaths } from "../agent/lb/paths";
import { createLogger } from "../agent/log";
import type { DesiredLoadBalancer } from "../runtime/protocol/model";
import { freePort } from "../test/support/free-port";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { getStatus } from "./support/http";
import { Child, spawnLogged } from "./support/procs";

const HAPROXY = "/usr/sbin/haproxy";
const WRK = "/usr/bin/wrk";
const BACKENDS = ["127.64.0.10", "127.64.0.11", "127.64.0.12", "127.64.0.13"];
/** wrk parameters, the same for both sides (LB_BENCH_* override them to explore). */
const THREADS = Number(process.env.LB_BENCH_THREADS ?? 1);
const CONNECTIONS = Number(process.env.LB_BENCH_CONNECTIONS ?? 32);
const SECONDS = Number(process.env.LB_BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.LB_BENCH_ROUNDS ?? 9);
const THROUGHPUT_GOAL = 0.95;
const P99_GOAL = 1.1;

interface WrkRun { rps: number; p50Ms: number; p99Ms: number; errors: number; requests: number; cpuUsPerRequest: number }

/** CPU seconds (user + system) used so far by an HAProxy's master and workers. */
async function haproxyCpuSeconds(m: HaproxyMaster): Promise<number> {
  const info = await m.showProc();
  const ticks = 100; // USER_HZ on Linux
  return [info.masterPid, ...info.workers].reduce((sum, pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return sum + (Number(f[11]) + Number(f[12])) / ticks;
    } catch {
      return sum;
    }
  }, 0);
}

/**
 * One wrk run against `url`, with the CPU the load balancer's HAProxy spent per request:
 * on a shared, busy machine the rates swing with other people's load, CPU per request much less.
 */
async function measure(url: string, lb: HaproxyMaster, script: string): Promise<WrkRun> {
  const cpu0 = await haproxyCpuSeconds(lb);
  const run = await runWrk(url, SECONDS, script);
  const cpu = (await haproxyCpuSeconds(lb)) - cpu0;
  return { ...run, cpuUsPerRequest: (cpu * 1e6) / Math.max(1, run.requests) };
}

/** Prints one JSON line when wrk finishes (latencies are in microseconds). */
const WRK_SCRIPT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_JSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"p50_us\\":%d,\\"p99_us\\":%d,\\"errors\\":%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
`;

function runWrk(url: string, seconds: number, script: string): Promise<Omit<WrkRun, "cpuUsPerRequest">> {
  const args = ["-t", String(THREADS), "-c", String(CONNECTIONS), "-d", `${seconds}s`, "--timeout", "5s", "-s", script, url];
  return new Promise((resolve, reject) => {
    execFile(WRK, args, { timeout: (seconds + 30) * 1000 }, (err, stdout, stderr) => {
      const line = String(stdout).split("\n").find((l) => l.startsWith("WRK_JSON "));
      if (err || !line) return reject(new Error(`wrk ${args.join(" ")} failed: ${err?.message ?? ""} ${stderr}`));
      const r = JSON.parse(line.slice("WRK_JSON ".length));
      resolve({ rps: r.requests / (r.duration_us / 1e6), p50Ms: r.p50_us / 1000, p99Ms: r.p99_us / 1000, errors: r.errors, requests: r.requests });
    });
  });
}

/** The origin: one HAProxy answering 200 itself on every backend address. */
function originConfig(port: number): string {
  return [
    "defaults", "  mode http", "  timeout connect 5s", "  timeout client 50s", "  timeout server 50s",
    "frontend origin", ...BACKENDS.map((ip) => `  bind ${ip}:${port}`),
    "  http-request return status 200 content-type text/plain string ok", "",
  ].join("\n");
}

/** The baseline: what someone would write by hand for the same backends. */
function baselineConfig(port: number, originPort: number): string {
  return [
    "defaults", "  mode http", "  timeout connect 5s", "  timeout client 50s", "  timeout server 50s",
    "frontend fe", `  bind :${port}`, "  default_backend be",
    "backend be", "  balance roundrobin", ...BACKENDS.map((ip, i) => `  server s${i + 1} ${ip}:${originPort}`), "",
  ].join("\n");
}

async function waitServing(url: string, child?: Child): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if ((await getStatus(url)) === 200) return;
    if (child && !child.alive()) throw new Error(`the process behind ${url} exited`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within 15 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The round whose drover/baseline ratio of `f` is the median one. */
function medianPair(d: WrkRun[], b: WrkRun[], f: (x: WrkRun) => number): { d: WrkRun; b: WrkRun } {
  const pairs = d.map((x, i) => ({ d: x, b: b[i] })).sort((p, q) => f(p.d) / f(p.b) - f(q.d) / f(q.b));
  return pairs[Math.floor(pairs.length / 2)];
}

export const benchmark: Benchmark = {
  name: "lb-latency",
  summary: "HTTP req/s and p99 through drover's load balancer (HAProxy, rendered config) vs a hand-written HAProxy config, same backends",
  async run(): Promise<BenchResult> {
    for (const bin of [HAPROXY, WRK]) if (!fs.existsSync(bin)) throw new Error(`${bin} is missing (scripts/setup.sh installs it)`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dlbb-"));
    const script = path.join(dir, "report.lua");
    fs.writeFileSync(script, WRK_SCRIPT);
    const children: Child[] = [];
    const lbs = new LoadBalancers({ stateDir: dir, log: createLogger(() => undefined) });
    let baseline: HaproxyMaster | undefined;
    try {
      const originPort = await freePort("127.64.0.10");
      fs.writeFileSync(path.join(dir, "origin.cfg"), originConfig(originPort));
      const origin = spawnLogged([HAPROXY, "-f", path.join(dir, "origin.cfg")], path.join(dir, "origin.log"));
      children.push(origin);
      for (const ip of BACKENDS) await waitServing(`http://${ip}:${originPort}/`, origin);

      // Baseline HAProxy: the minimal config, started exactly as drover starts its own
      // (same binary, master-worker, its own session: the scheduler treats both alike).
      const basePort = await freePort("0.0.0.0");
      const basePaths = lbPaths(path.join(dir, "baseline"), "baseline");
      fs.mkdirSync(basePaths.dir, { recursive: true });
      fs.writeFileSync(basePaths.config, baselineConfig(basePort, originPort));
      baseline = HaproxyMaster.spawn(HAPROXY, basePaths);

      // drover: the agent's module, a load balancer with one http rule to a 4-instance service.
      const droverPort = await freePort("0.0.0.0");
      const lb: DesiredLoadBalancer = {
        id: "bench", loadBalancerId: "lb-bench", name: "bench-lb-1", stackId: "bench",
        spec: { portRules: [{ sourcePort: droverPort, protocol: "http", targetServiceId: "web", targetPort: originPort }], certificateIds: [], scale: 1, global: false, labels: {} },
        certificates: {},
      };
      lbs.setDirectory({
        instances: BACKENDS.map((ip, i) => ({ id: `web-${i + 1}`, ip, serviceId: "web", running: true, healthy: true })),
        services: [{ id: "web", name: "web", stackId: "bench", links: {} }],
        stacks: [{ id: "bench", name: "bench", stackWideDiscovery: false }],
      });
      await lbs.apply([lb]);
      const st = lbs.status().bench;
      if (st?.state !== "running") throw new Error(`drover's load balancer is not running: ${JSON.stringify(st)}`);
      const droverUrl = `http://127.0.0.1:${droverPort}/`;
      const baseUrl = `http://127.0.0.1:${basePort}/`;
      await waitServing(droverUrl);
      await waitServing(baseUrl);

      await runWrk(droverUrl, 1, script); // warm-up
      await runWrk(baseUrl, 1, script);
      const d: WrkRun[] = [], b: WrkRun[] = [];
      const droverMaster = await HaproxyMaster.adopt(lbPaths(dir, "bench"));
      if (!droverMaster) throw new Error("drover's HAProxy cannot be found through its pid file");
      for (let r = 0; r < ROUNDS; r++) {
        if (r % 2 === 0) { d.push(await measure(droverUrl, droverMaster, script)); b.push(await measure(baseUrl, baseline, script)); }
        else { b.push(await measure(baseUrl, baseline, script)); d.push(await measure(droverUrl, droverMaster, script)); }
      }
      // Each round's two runs are back to back, so their ratio cancels most of the other
      // load on the machine; the round with the median ratio is the one reported.
      const byRps = medianPair(d, b, (x) => x.rps);
      const byP99 = medianPair(d, b, (x) => x.p99Ms);
      const [dRps, bRps] = [byRps.d.rps, byRps.b.rps];
      const [dP99, bP99] = [byP99.d.p99Ms, byP99.b.p99Ms];
      const ratio = dRps / bRps, p99Ratio = dP99 / bP99;
      const errors = d.reduce((n, x) => n + x.errors, 0) + b.reduce((n, x) => n + x.errors, 0);
      return {
        name: "lb-latency",
        unit: "requests/s",
        value: round(dRps, 0),
        baseline: round(bRps, 0),
        ratio: round(ratio, 3),
        goal: `throughput ratio >= ${THROUGHPUT_GOAL}, p99 ratio <= ${P99_GOAL}`,
        ok: ratio >= THROUGHPUT_GOAL && p99Ratio <= P99_GOAL && errors === 0,
        extra: {
          droverP99Ms: round(dP99, 3),
          baselineP99Ms: round(bP99, 3),
          p99Ratio: round(p99Ratio, 3),
          droverP50Ms: round(median(d.map((x) => x.p50Ms)), 3),
          baselineP50Ms: round(median(b.map((x) => x.p50Ms)), 3),
          droverCpuUsPerRequest: round(median(d.map((x) => x.cpuUsPerRequest)), 2),
          baselineCpuUsPerRequest: round(median(b.map((x) => x.cpuUsPerRequest)), 2),
          cpuRatio: round(median(d.map((x) => x.cpuUsPerRequest)) / median(b.map((x) => x.cpuUsPerRequest)), 3),
          loadAverage: round(os.loadavg()[0], 2),
          errors,
          droverRuns: d.map((x) => round(x.rps, 0)).join(" "),
          baselineRuns: b.map((x) => round(x.rps, 0)).join(" "),
          droverP99Runs: d.map((x) => round(x.p99Ms, 2)).join(" "),
          baselineP99Runs: b.map((x) => round(x.p99Ms, 2)).join(" "),
          wrk: `-t${THREADS} -c${CONNECTIONS} -d${SECONDS}s, ${ROUNDS} rounds`,
          backends: BACKENDS.length,
        },
      };
    } finally {
      await lbs.teardown();
      await baseline?.stop();
      for (const c of children.reverse()) await c.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
