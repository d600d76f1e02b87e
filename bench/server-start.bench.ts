/**
 * Server cold start and memory: `drover server` as a child process, from spawn to the first
 * 200 on GET /healthz (polled every 2 ms), median of 5 starts. Baseline in the same run: a
 * bare `node -e` HTTP server answering /healthz (Node's own floor), started the same way,
 * alternating with drover. Then RSS (/proc/<pid>/status VmRSS) idle, and with 1,000 instance
 * records: 10 simulated hosts register through POST /v1/register and heartbeat with their own
 * ACL users (bench/support/sim-agent.ts, no observed reports), a service of scale 1000 is
 * spread over them, and the RSS is read once 1,000 instance records exist and then every
 * 250 ms for 10 s while the reconciler keeps passing over them (a pass every 500 ms tick).
 * The figure judged (rss1000Mb) is the highest of those readings: the V8 heap and malloc
 * arenas keep growing for a few seconds after the records land, so a single early reading
 * would flatter the server.
 */
import * as fs from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { performance } from "perf_hooks";
import { randomBytes } from "crypto";
import { freePort } from "../test/support/free-port";
import { startPrivateRedis, type PrivateRedis } from "../test/support/redis-server";
import { waitFor } from "../test/support/wait";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { Api, createEnvironment, waitForOk } from "./support/http";
import { Child, median, procCpuSeconds, procStatusMb, spawnLogged, spawnServer } from "./support/procs";
import { newSimStats, registerSimHost, SimHost, simRegisterRequest } from "./support/sim-agent";

const ROUNDS = 5;
const START_GOAL_MS = 1000;
const RSS_GOAL_MB = 100;
const HOSTS = 10;
const INSTANCES = 1000;
/** How long RSS is sampled (every 250 ms) while the reconciler runs over the 1,000 records. */
const STEADY_MS = 10_000;

const BASELINE_JS = `require("http").createServer((q, s) => { s.writeHead(200, { "content-type": "application/json" }); s.end('{"type":"health","ok":true}'); }).listen(Number(process.env.PORT), "127.0.0.1");`;

interface StartSample { readyMs: number; firstApiMs?: number }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const benchmark: Benchmark = {
  name: "server-start",
  summary: "drover server cold start to /healthz (vs a bare Node http server) and RSS idle / with 1,000 instances",
  async run(): Promise<BenchResult> {
    const dir = fs.mkdtempSync(join(tmpdir(), "drover-server-start-"));
    const adminKey = `admin-${randomBytes(12).toString("hex")}`;
    const adminKeyFile = join(dir, "admin-key");
    fs.writeFileSync(adminKeyFile, adminKey + "\n", { mode: 0o600 });
    const keyPrefix = `ss${randomBytes(3).toString("hex")}`;
    const children = new Set<Child>();
    const sims: SimHost[] = [];
    let redis: PrivateRedis | undefined;

    const startDrover = async (): Promise<{ child: Child; url: string; sample: StartSample }> => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const t0 = performance.now();
      const child = spawnServer({ listen: `127.0.0.1:${port}`, redis: redis!.url, adminKeyFile, keyPrefix, logFile: join(dir, "server.log") });
      children.add(child);
      const ready = await waitForOk(`${url}/healthz`, { alive: child.alive });
      // Also: the first call that needs Redis (admin list of environments).
      const api = new Api(url, adminKey);
      let firstApi: number | undefined;
      for (let i = 0; i < 5000 && firstApi === undefined; i++) {
        if ((await api.call("GET", "/v1/environments")).status === 200) firstApi = performance.now();
        else await sleep(1);
      }
      return { child, url, sample: { readyMs: ready - t0, firstApiMs: firstApi === undefined ? undefined : firstApi - t0 } };
    };
    const startBaseline = async (): Promise<number> => {
      const port = await freePort();
      const t0 = performance.now();
      const child = spawnLogged([process.execPath, "-e", BASELINE_JS], join(dir, "baseline.log"), { ...process.env, PORT: String(port) });
      children.add(child);
      const ready = await waitForOk(`http://127.0.0.1:${port}/healthz`, { alive: child.alive });
      await child.stop();
      children.delete(child);
      return ready - t0;
    };
    const stop = async (child: Child) => { await child.stop(); children.delete(child); };

    try {
      redis = await startPrivateRedis(["127.0.0.1"]);
      // One of each first, not counted: page cache and the like.
      await startBaseline();
      await stop((await startDrover()).child);

      const drover: StartSample[] = [];
      const baseline: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        if (r % 2 === 0) {
          baseline.push(await startBaseline());
          const d = await startDrover(); drover.push(d.sample); await stop(d.child);
        } else {
          const d = await startDrover(); drover.push(d.sample); await stop(d.child);
          baseline.push(await startBaseline());
        }
      }

      // Memory: one server, idle, then with 1,000 instance records.
      const { child: server, url } = await startDrover();
      await sleep(1500);
      const rssIdle = procStatusMb(server.pid, "VmRSS");

      const env = await createEnvironment(url, adminKey, "rss");
      const stats = newSimStats();
      for (let i = 0; i < HOSTS; i++) {
        const registeredAt = new Date().toISOString();
        const { response } = await registerSimHost(url, simRegisterRequest(env.registrationToken, `rss-host-${i}`));
        const sim = new SimHost(response, registeredAt, stats, { reportObserved: false });
        sims.push(sim);
        await sim.start();
      }
      await waitFor(async () => (await env.api.total(`${env.base}/hosts?state=active`)) === HOSTS, { what: "10 hosts active", timeoutMs: 20_000 });
      const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "rss" });
      const t0 = performance.now();
      await env.api.ok("POST", `${env.base}/services`, { stackId: stack.id, name: "web", image: "local/busybox", command: ["sleep", "3600"], scale: INSTANCES });
      await waitFor(async () => (await env.api.total(`${env.base}/instances`)) === INSTANCES, { what: `${INSTANCES} instance records`, timeoutMs: 60_000, maxIntervalMs: 50 });
      const recordsMs = performance.now() - t0;
      const rssAtRecords = procStatusMb(server.pid, "VmRSS");
      const samples: number[] = [];
      const cpu0 = procCpuSeconds(server.pid);
      const steady0 = performance.now();
      for (const end = performance.now() + STEADY_MS; performance.now() < end; ) {
        await sleep(250);
        samples.push(procStatusMb(server.pid, "VmRSS"));
      }
      const idleCores = (procCpuSeconds(server.pid) - cpu0) / ((performance.now() - steady0) / 1000);
      const rssSteady = samples[samples.length - 1];
      const hwm = procStatusMb(server.pid, "VmHWM");
      const perHost = await env.api.ok("GET", `${env.base}/hosts?limit=100`);
      const counts = await Promise.all((perHost.data as { id: string }[]).map((h) => env.api.total(`${env.base}/instances?hostId=${h.id}`)));
      // The figure judged: the highest RSS seen while the server holds the 1,000 records.
      const rss1000 = Math.max(rssAtRecords, ...samples);

      const startMs = median(drover.map((d) => d.readyMs));
      const baseMs = median(baseline);
      return {
        name: "server-start",
        unit: "ms",
        value: round(startMs, 1),
        baseline: round(baseMs, 1),
        ratio: round(startMs / baseMs, 3),
        goal: `cold start to /healthz < ${START_GOAL_MS} ms and RSS with ${INSTANCES} instances < ${RSS_GOAL_MB} MB`,
        ok: startMs < START_GOAL_MS && rss1000 < RSS_GOAL_MB,
        extra: {
          rounds: ROUNDS,
          droverStartsMs: drover.map((d) => round(d.readyMs, 1)).join(" "),
          baselineStartsMs: baseline.map((b) => round(b, 1)).join(" "),
          baselineStartMs: round(baseMs, 1),
          firstApiCallMsMedian: round(median(drover.map((d) => d.firstApiMs ?? NaN)), 1),
          rssIdleMb: round(rssIdle, 1),
          rss1000Mb: round(rss1000, 1),
          rss1000AtRecordsMb: round(rssAtRecords, 1),
          rss1000MedianMb: round(median(samples), 1),
          rss1000LastMb: round(rssSteady, 1),
          peakRssMb: round(hwm, 1),
          steadyWindowMs: STEADY_MS,
          // CPU the server used over that window, with nothing to do but its periodic passes.
          idleCpuCores1000: round(idleCores, 3),
          records1000Ms: round(recordsMs, 0),
          instancesPerHost: counts.join(" "),
          simErrors: stats.errors,
        },
      };
    } finally {
      for (const s of sims) s.stop();
      for (const c of children) await c.stop();
      await redis?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
