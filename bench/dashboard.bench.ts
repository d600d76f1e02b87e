/**
 * dashboard: the web dashboard under load, each figure against a baseline in the same run.
 *
 * 1. Time to a fully rendered services page (every instance row in the DOM) in headless
 *    Chromium, for 100 simulated hosts (real agent protocol, bench/support/sim-agent.ts) and
 *    2,000 instances (20 services × 100) placed by a real `drover server` on a private Redis.
 *    Baseline: the same page, the same browser, its API answers replayed from memory (the
 *    exact JSON drover answered, recorded in the first run) by a plain node http server that
 *    also serves the same dashboard files. value and baseline are medians over ROUNDS fresh
 *    pages; ratio = value / baseline. Goal: value under 1 s.
 * 2. Server CPU with 20 dashboards streaming stats: the 100 hosts publish a sample every 2 s
 *    (20 containers each, as agents do: XADD to their stats stream), 20 websocket clients
 *    hold /v1/stats streams, and the server process's CPU is read over WINDOW_MS, against the
 *    same server over the same window with no stream open (its own background work: heartbeats,
 *    reconcile ticks). Baseline: a plain ws server reading the same streams and sending every
 *    sample to 20 plain clients (bench/support/plain-stats-publisher.ts). Goal: the streams
 *    cost the server under 0.1 core. Printed in `extra` with their own ratio.
 */
import { fork } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { tmpdir } from "os";
import * as path from "path";
import { randomBytes } from "crypto";
import Redis from "ioredis";
import { chromium, type Browser } from "playwright-core";
import WebSocket from "ws";
import { DashboardAssets } from "../runtime/dashboard/assets";
import { makeKeys } from "../runtime/protocol/keys";
import type { StatsSample } from "../runtime/protocol/stats";
import { freePort } from "../test/support/free-port";
import { startPrivateRedis } from "../test/support/redis-server";
import { waitFor } from "../test/support/wait";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { createEnvironment, waitForOk } from "./support/http";
import { mapLimit, median, procCpuSeconds, spawnServer } from "./support/procs";
import { newSimStats, registerSimHost, SimHost, simRegisterRequest } from "./support/sim-agent";

const HOSTS = Number(process.env.DASH_BENCH_HOSTS ?? 100);
const SERVICES = 20;
const SCALE = Number(process.env.DASH_BENCH_SCALE ?? 100);
const ROUNDS = Number(process.env.DASH_BENCH_ROUNDS ?? 5);
const CLIENTS = 20;
const WINDOW_MS = Number(process.env.DASH_BENCH_WINDOW_MS ?? 10_000);
const CONTAINERS_PER_SAMPLE = 20;
const chromiumPath = process.env.DROVER_CHROMIUM ?? "/usr/bin/chromium";

function sample(): StatsSample {
  return {
    t: Date.now(),
    host: { cpu: Math.random(), cpus: 2, memUsedBytes: 1e9, memTotalBytes: 4e9, netRxBps: 1e5, netTxBps: 1e5, diskReadBps: 0, diskWriteBps: 1e4, load1: 0.5 },
    containers: Array.from({ length: CONTAINERS_PER_SAMPLE }, (_, i) => ({ name: `stack-svc-${i}`, instanceId: `1i${i}`, cpu: Math.random(), memBytes: 5e7 })),
  };
}

/** Opens a fresh page on the services view and resolves with the ms until every instance row is in the DOM. */
async function renderServices(browser: Browser, base: string, key: string, envId: string, instances: number, record?: Map<string, string>): Promise<number> {
  const context = await browser.newContext();
  await context.addInitScript((k) => sessionStorage.setItem("drover.apiKey", k), key);
  const page = await context.newPage();
  const asked: string[] = [];
  if (record) {
    page.on("request", (req) => {
      const u = new URL(req.url());
      if (req.method() === "GET" && u.pathname.startsWith("/v1/") && !u.pathname.endsWith("/events")) asked.push(u.pathname + u.search);
    });
  }
  const t0 = Date.now();
  await page.goto(`${base}/#/env/${envId}/services`);
  await page.waitForFunction((n) => document.querySelectorAll("[data-testid=instance-row]").length === n, instances, { timeout: 60_000, polling: "raf" });
  const ms = Date.now() - t0;
  if (process.env.DASH_BENCH_DEBUG) {
    // Where the time went: each request's start and end (ms since navigation), and the payloads.
    const timings = await page.evaluate(() => (performance as any).getEntriesByType("resource").map((e: any) => `${e.name.replace(/^https?:\/\/[^/]+/, "").slice(0, 70)} ${Math.round(e.startTime)}→${Math.round(e.responseEnd)} ${e.transferSize}B`));
    console.log(`${base}: ${ms} ms\n  ${timings.join("\n  ")}`);
  }
  await context.close();
  // The same answers, read again with the same key, for the baseline to replay.
  for (const p of asked) record!.set(p, await (await fetch(base + p, { headers: { authorization: `Bearer ${key}` } })).text());
  return ms;
}

/** The baseline's server: the dashboard files and the recorded API answers, from memory. */
function replayServer(recorded: Map<string, string>): Promise<{ url: string; close(): void }> {
  const assets = new DashboardAssets();
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://x");
    if (u.pathname.endsWith("/events")) {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("retry: 2000\n\n");
      return;
    }
    const body = recorded.get(u.pathname + u.search);
    if (body !== undefined) {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(body);
    }
    const asset = u.pathname === "/" ? assets.get("") : u.pathname.startsWith("/dashboard/") ? assets.get(u.pathname.slice(11)) : undefined;
    if (!asset) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { "content-type": asset.contentType });
    res.end(asset.body);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as { port: number }).port;
    resolve({ url: `http://127.0.0.1:${port}`, close: () => { server.closeAllConnections(); server.close(); } });
  }));
}

async function openClients(urlFor: () => Promise<string>, n: number): Promise<{ sockets: WebSocket[]; received: () => number }> {
  let received = 0;
  const sockets = await Promise.all(Array.from({ length: n }, async () => {
    const ws = new WebSocket(await urlFor());
    ws.on("message", () => { received++; });
    await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
    return ws;
  }));
  return { sockets, received: () => received };
}

/** CPU cores `pid` used over `ms`. */
async function coresOver(pid: number, ms: number): Promise<number> {
  const before = procCpuSeconds(pid);
  const t0 = Date.now();
  await waitFor(() => Date.now() - t0 >= ms, { what: "the measuring window", timeoutMs: ms + 2000, intervalMs: 100, maxIntervalMs: 100 });
  return (procCpuSeconds(pid) - before) / ((Date.now() - t0) / 1000);
}

declare const document: any;
declare const sessionStorage: any;

export const benchmark: Benchmark = {
  name: "dashboard",
  summary: "services page render with 100 hosts / 2,000 instances in Chromium, and server CPU with 20 stats streams",
  async run(): Promise<BenchResult> {
    const dir = fs.mkdtempSync(path.join(tmpdir(), "drover-dash-bench-"));
    const redis = await startPrivateRedis(["127.0.0.1"]);
    const admin = new Redis(redis.url);
    const keyPrefix = `dash${randomBytes(3).toString("hex")}`;
    const keys = makeKeys(keyPrefix);
    const adminKey = `admin-${randomBytes(16).toString("hex")}`;
    fs.writeFileSync(path.join(dir, "admin-key"), adminKey, { mode: 0o600 });
    const port = await freePort("127.0.0.1");
    const url = `http://127.0.0.1:${port}`;
    const server = spawnServer({ listen: `127.0.0.1:${port}`, redis: redis.url, adminKeyFile: path.join(dir, "admin-key"), keyPrefix, logFile: path.join(dir, "server.log"), disconnectGrace: "60s" });
    const hosts: SimHost[] = [];
    let browser: Browser | undefined;
    const cleanup: Array<() => unknown> = [];
    try {
      await waitForOk(`${url}/healthz`, { alive: server.alive, intervalMs: 10 });
      const env = await createEnvironment(url, adminKey, "bench");
      const stats = newSimStats();
      await mapLimit(Array.from({ length: HOSTS }, (_, i) => i), 8, async (i) => {
        const registeredAt = new Date().toISOString();
        const r = await registerSimHost(url, simRegisterRequest(env.registrationToken, `sim-${String(i).padStart(3, "0")}`));
        const host = new SimHost(r.response, registeredAt, stats, { reportObserved: true });
        hosts.push(host);
        await host.start();
      });
      const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "bench" });
      for (let s = 0; s < SERVICES; s++) {
        await env.api.ok("POST", `${env.base}/services`, { stackId: stack.id, name: `svc${s}`, image: "local/busybox", scale: SCALE });
      }
      const instances = SERVICES * SCALE;
      await waitFor(async () => (await env.api.ok("GET", `${env.base}/instances?limit=1`)).pagination.total >= instances,
        { what: `${instances} instances placed`, timeoutMs: 120_000, intervalMs: 500, maxIntervalMs: 1000 });

      browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
      const recorded = new Map<string, string>();
      await renderServices(browser, url, env.apiKey, env.id, instances, recorded); // warm-up, and the answers the baseline replays
      const replay = await replayServer(recorded);
      cleanup.push(() => replay.close());
      await renderServices(browser, replay.url, env.apiKey, env.id, instances);
      const droverMs: number[] = [];
      const baseMs: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        droverMs.push(await renderServices(browser, url, env.apiKey, env.id, instances));
        baseMs.push(await renderServices(browser, replay.url, env.apiKey, env.id, instances));
      }
      await browser.close();
      browser = undefined;
      const renderMs = median(droverMs);
      const renderBase = median(baseMs);
      console.log(`services page, ${HOSTS} hosts / ${instances} instances: drover ${renderMs} ms (${droverMs.join(", ")}), static replay ${renderBase} ms (${baseMs.join(", ")})`);

      // Stats streams.
      const hostIds = hosts.map((h) => h.response.hostId);
      const streams = hostIds.map((id) => keys.host(env.id, id).stats);
      const publisher = setInterval(() => {
        const pipe = admin.pipeline();
        for (const k of streams) pipe.xadd(k, "MAXLEN", "~", "150", "*", "s", JSON.stringify(sample()));
        void pipe.exec();
      }, 2000);
      cleanup.push(() => clearInterval(publisher));
      const idle = await coresOver(server.pid, WINDOW_MS);
      const token = async () => {
        const t = await env.api.ok("POST", `${env.base}/statstokens`);
        return `${url.replace(/^http/, "ws")}${t.path}?token=${encodeURIComponent(t.token)}`;
      };
      const drover = await openClients(token, CLIENTS);
      const withStreams = await coresOver(server.pid, WINDOW_MS);
      const droverMessages = drover.received();
      for (const ws of drover.sockets) ws.terminate();

      const plainPort = await freePort("127.0.0.1");
      const plain = fork(path.join(__dirname, "support", "plain-stats-publisher.js"), [redis.url, String(plainPort), ...streams], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
      cleanup.push(() => plain.kill("SIGKILL"));
      await new Promise((r) => plain.once("message", r));
      const plainClients = await openClients(async () => `ws://127.0.0.1:${plainPort}`, CLIENTS);
      const plainCores = await coresOver(plain.pid!, WINDOW_MS);
      const plainMessages = plainClients.received();
      for (const ws of plainClients.sockets) ws.terminate();
      const streamCores = Math.max(0, withStreams - idle);
      console.log(`stats streams: server ${round(withStreams, 3)} cores with ${CLIENTS} streams, ${round(idle, 3)} without (streams: ${round(streamCores, 3)}), plain publisher ${round(plainCores, 3)}; messages ${droverMessages} vs ${plainMessages}`);

      const ok = renderMs < 1000 && streamCores < 0.1;
      return {
        name: "dashboard", unit: "ms to a rendered services page", value: renderMs, baseline: renderBase, ratio: round(renderMs / renderBase, 3),
        goal: "services page under 1000 ms with 100 hosts and 2,000 instances; 20 stats streams cost the server under 0.1 core",
        ok,
        extra: {
          hosts: HOSTS, instances, rounds: ROUNDS, droverMsRounds: droverMs.join(" "), baselineMsRounds: baseMs.join(" "),
          serverCoresWith20Streams: round(withStreams, 3), serverCoresNoStreams: round(idle, 3), streamCores: round(streamCores, 3),
          plainPublisherCores: round(plainCores, 3), streamCpuRatio: round(streamCores / Math.max(plainCores, 1e-3), 3),
          streamMessages: droverMessages, plainMessages, windowMs: WINDOW_MS,
        },
      };
    } finally {
      for (const c of cleanup) c();
      await browser?.close();
      for (const h of hosts) h.stop();
      await server.stop();
      admin.disconnect();
      await redis.stop();
    }
  },
};
