/**
 * DNS throughput and latency: drover's responder vs dnsmasq serving the same records on the
 * same machine. 50 services / 500 instances; the asking container (127.0.0.1) sees 90 names
 * of 10 addresses each. The load generator is a child process (this file, run with
 * `--dns-load`) so it never shares an event loop with the server it measures; it keeps a
 * fixed number of queries in flight for a fixed time against each server in turn.
 * 16 in flight saturates both servers; 64 would only add queueing inside the one client
 * (Little's law: 64 / 80K/s ≈ 0.8 ms each, for dnsmasq too) and measure that as latency.
 * A single Node client is also the ceiling dnsmasq reaches here, so the server CPU used
 * is reported beside the rates. drover also runs once with its encoded-answer cache off,
 * to show what the cache buys ("before").
 * drover's responder is started the way the agent starts it (agent/dns/host-dns.ts: the
 * directory read as an EnvDnsDocument, UDP and TCP on one port); the load is UDP.
 */
import { ChildProcess, execFileSync, fork, spawn } from "child_process";
import * as dgram from "dgram";
import * as dnsPacket from "dns-packet";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import type { DnsDirectory } from "../agent/dns/directory";
import { HostDns } from "../agent/dns/host-dns";
import { createLogger } from "../agent/log";
import type { Benchmark, BenchResult } from "./result";
import { percentile, round } from "./result";

const DNSMASQ = "/usr/sbin/dnsmasq";
/** Queries in flight; DNS_BENCH_IN_FLIGHT overrides it to explore (the goal is judged at 16). */
const IN_FLIGHT = Number(process.env.DNS_BENCH_IN_FLIGHT ?? 16);
const RUN_MS = 2000;
const WARMUP_MS = 300;
/** drover and dnsmasq alternate; the ratio is taken within each adjacent pair (the machine is shared and noisy). */
const ROUNDS = 3;
const RATIO_GOAL = 0.8;
const P99_GOAL_MS = 2;

// ---------------------------------------------------------------- the environment

interface Workload {
  directory: DnsDirectory;
  /** name → addresses, as the asking container must see them. */
  records: Map<string, string[]>;
}

/** 5 stacks × 10 services × 10 instances. The asker is in stack s0 (stack-wide discovery) and links 20 services elsewhere. */
function makeWorkload(): Workload {
  const directory: DnsDirectory = { stacks: [], services: [], instances: [] };
  const ipsOf = new Map<string, string[]>();
  for (let s = 0; s < 5; s++) {
    directory.stacks.push({ id: `st${s}`, name: `s${s}`, stackWideDiscovery: s === 0 });
    for (let v = 0; v < 10; v++) {
      const id = `sv${s}-${v}`;
      directory.services.push({ id, name: `svc${v}`, stackId: `st${s}`, links: {} });
      const ips: string[] = [];
      for (let i = 0; i < 10; i++) {
        const ip = `10.42.${s * 10 + v}.${i + 2}`;
        ips.push(ip);
        directory.instances.push({ id: `${id}-${i}`, ip, serviceId: id, running: true, healthy: true });
      }
      ipsOf.set(id, ips);
    }
  }
  const links: Record<string, string> = {};
  for (let k = 0; k < 20; k++) links[`link${k}`] = `sv${1 + (k % 4)}-${Math.floor(k / 4)}`;
  directory.services.push({ id: "asker", name: "asker", stackId: "st0", links });
  directory.instances.push({ id: "asker-1", ip: "127.0.0.1", serviceId: "asker", running: true });

  const records = new Map<string, string[]>();
  for (let v = 0; v < 10; v++) {
    const ips = ipsOf.get(`sv0-${v}`)!;
    for (const name of [`svc${v}`, `svc${v}.s0`, `svc${v}.s0.drover.internal`]) records.set(name, ips);
  }
  for (const [alias, target] of Object.entries(links)) {
    const [s, v] = target.slice(2).split("-");
    const ips = ipsOf.get(target)!;
    for (const name of [alias, `svc${v}.s${s}`, `svc${v}.s${s}.drover.internal`]) records.set(name, ips);
  }
  return { directory, records };
}

/** The same names for dnsmasq: one hosts line per address, listing every name that maps to it. */
function hostsFile(records: Map<string, string[]>): string {
  const namesByIp = new Map<string, string[]>();
  for (const [name, ips] of records) for (const ip of ips) namesByIp.set(ip, [...(namesByIp.get(ip) ?? []), name]);
  return [...namesByIp].map(([ip, names]) => `${ip} ${names.join(" ")}`).join("\n") + "\n";
}

// ---------------------------------------------------------------- the load generator (child process)

interface LoadConfig { port: number; names: string[]; inFlight: number; runMs: number; warmupMs: number }
interface LoadResult { qps: number; p50Ms: number; p99Ms: number; completed: number; errors: number; lost: number }

/** Runs in the child: `inFlight` slots, each sending its next query as soon as its answer is in. */
function runLoad(cfg: LoadConfig): Promise<LoadResult> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket("udp4");
    const queries = cfg.names.map((name) =>
      dnsPacket.encode({ type: "query", id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: "A", class: "IN" }] }));
    const sentAt = new Float64Array(cfg.inFlight);
    const gen = new Uint16Array(cfg.inFlight);
    const latencies: number[] = [];
    let next = 0, completed = 0, errors = 0, lost = 0, measuring = false, done = false;
    const slotBits = 7; // up to 128 slots; the rest of the id is a generation, to ignore late answers
    const t0 = performance.now();

    const send = (slot: number) => {
      const q = queries[next++ % queries.length];
      const buf = Buffer.allocUnsafe(q.length);
      q.copy(buf);
      gen[slot] = (gen[slot] + 1) & 0x1ff;
      buf.writeUInt16BE((gen[slot] << slotBits) | slot, 0);
      sentAt[slot] = performance.now();
      sock.send(buf);
    };
    sock.on("message", (msg) => {
      if (done || msg.length < 12) return;
      const id = msg.readUInt16BE(0);
      const slot = id & ((1 << slotBits) - 1);
      if (slot >= cfg.inFlight || id >> slotBits !== gen[slot]) return;
      const now = performance.now();
      if (measuring) {
        completed++;
        latencies.push(now - sentAt[slot]);
        if ((msg.readUInt16BE(2) & 0xf) !== 0 || msg.readUInt16BE(6) === 0) errors++;
      }
      send(slot);
    });
    // A datagram lost under load would shrink the pipeline for good: resend after 200 ms.
    const watchdog = setInterval(() => {
      const now = performance.now();
      for (let s = 0; s < cfg.inFlight; s++) if (now - sentAt[s] > 200) { lost++; send(s); }
    }, 50);
    sock.connect(cfg.port, "127.0.0.1", () => {
      for (let s = 0; s < cfg.inFlight; s++) send(s);
      setTimeout(() => { measuring = true; }, cfg.warmupMs);
      setTimeout(() => {
        done = true;
        clearInterval(watchdog);
        sock.close();
        latencies.sort((a, b) => a - b);
        const seconds = (performance.now() - t0 - cfg.warmupMs) / 1000;
        resolve({ qps: completed / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), completed, errors, lost });
      }, cfg.warmupMs + cfg.runMs);
    });
  });
}

function loadFrom(child: string, cfg: LoadConfig): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const proc = fork(child, ["--dns-load", JSON.stringify(cfg)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let result: LoadResult | undefined;
    proc.on("message", (m) => { result = m as LoadResult; });
    proc.on("error", reject);
    proc.on("exit", (code) => (result ? resolve(result) : reject(new Error(`load generator exited with ${code}`))));
  });
}

// ---------------------------------------------------------------- the servers

/** A UDP port nobody holds right now (dnsmasq needs a number up front). */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket("udp4");
    s.on("error", reject);
    s.bind(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function ask(port: number, name: string, timeoutMs = 500): Promise<string[] | undefined> {
  const sock = dgram.createSocket("udp4");
  try {
    return await new Promise<string[] | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      sock.on("message", (msg) => {
        clearTimeout(timer);
        try {
          const p = dnsPacket.decode(msg);
          resolve((p.answers ?? []).filter((a) => a.type === "A").map((a) => (a as dnsPacket.StringAnswer).data).sort());
        } catch {
          resolve(undefined);
        }
      });
      sock.send(dnsPacket.encode({ type: "query", id: 1, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: "A" }] }), port, "127.0.0.1");
    });
  } finally {
    sock.close();
  }
}

/** The agent's DNS component on 127.0.0.1 (any port), its document from a fixed source instead of Redis. */
async function startAsAgent(directory: DnsDirectory, answerCacheSize?: number): Promise<{ port: number; stop(): Promise<void> }> {
  const raw = JSON.stringify({ version: 1, directory });
  const dns = new HostDns({
    source: { get: async () => raw }, key: "bench", address: "127.0.0.1", port: 0, ensureAddress: false, upstreams: [],
    server: answerCacheSize === undefined ? {} : { answerCacheSize }, log: createLogger(() => undefined),
  });
  dns.start();
  await dns.ready();
  await dns.settled();
  if (dns.port === undefined || dns.version !== 1) throw new Error("drover's responder did not start with the document");
  return { port: dns.port, stop: () => dns.stop() };
}

interface Dnsmasq { port: number; proc: ChildProcess; stop(): Promise<void> }

async function startDnsmasq(hostsPath: string, dir: string): Promise<Dnsmasq> {
  for (let attempt = 0; ; attempt++) {
    const port = await freeUdpPort();
    const proc = spawn(DNSMASQ, [
      "--no-daemon", "--conf-file=/dev/null", `--port=${port}`, "--listen-address=127.0.0.1", "--bind-interfaces",
      "--no-resolv", "--no-hosts", `--addn-hosts=${hostsPath}`, "--cache-size=10000", "--local-ttl=5",
      `--pid-file=${join(dir, "dnsmasq.pid")}`, "--user=root",
    ], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr!.on("data", (d) => { stderr += d; });
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    const stop = async () => { if (proc.exitCode === null && proc.signalCode === null) { proc.kill("SIGTERM"); await exited; } };
    // Ready when it answers (a deadline, not a fixed sleep).
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && proc.exitCode === null) {
      if (await ask(port, "svc0", 100)) return { port, proc, stop };
    }
    await stop();
    if (attempt >= 2) throw new Error(`dnsmasq did not come up: ${stderr.trim()}`);
  }
}

async function checkSameAnswers(port: number, records: Map<string, string[]>, who: string): Promise<void> {
  for (const [name, ips] of records) {
    const got = await ask(port, name, 2000);
    if (!got || got.join() !== [...ips].sort().join()) throw new Error(`${who} answers ${name} with ${got?.join(" ")}, want ${ips.join(" ")}`);
  }
}

// ---------------------------------------------------------------- CPU used by each server

/** CPU seconds a process has used so far (utime + stime from /proc). */
function processCpuSeconds(pid: number, ticksPerSecond: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // after "pid (comm) "
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

interface Measured extends LoadResult {
  /** Share of one core the server used during the run (the Node client is the same for both). */
  serverCpu: number;
}

/** One load run, with the CPU the server used meanwhile (drover runs in this process). */
async function measure(cfg: LoadConfig, serverCpuSeconds: () => number): Promise<Measured> {
  const cpu0 = serverCpuSeconds();
  const t0 = performance.now();
  const r = await loadFrom(__filename, cfg);
  const wall = (performance.now() - t0) / 1000;
  return { ...r, serverCpu: (serverCpuSeconds() - cpu0) / wall };
}

// ---------------------------------------------------------------- the benchmark

/** The round whose drover/dnsmasq ratio is the median one. */
function medianPair<T extends LoadResult>(drover: T[], dnsmasq: T[]): { d: T; m: T } {
  const pairs = drover.map((d, i) => ({ d, m: dnsmasq[i] })).sort((a, b) => a.d.qps / a.m.qps - b.d.qps / b.m.qps);
  return pairs[Math.floor(pairs.length / 2)];
}

export const benchmark: Benchmark = {
  name: "dns",
  summary: "DNS queries/s of drover's responder vs dnsmasq, same records, same machine (p99 latency too)",
  async run(): Promise<BenchResult> {
    const { directory, records } = makeWorkload();
    const dir = mkdtempSync(join(tmpdir(), "drover-dns-bench-"));
    const hostsPath = join(dir, "hosts");
    writeFileSync(hostsPath, hostsFile(records));
    const names = [...records.keys()];
    const servers: { stop(): Promise<void> }[] = [];
    let dnsmasq: Dnsmasq | undefined;
    try {
      const drover = await startAsAgent(directory);
      const uncached = await startAsAgent(directory, 0);
      servers.push(drover, uncached);
      dnsmasq = await startDnsmasq(hostsPath, dir);
      await checkSameAnswers(drover.port, records, "drover");
      await checkSameAnswers(dnsmasq.port, records, "dnsmasq");

      const cfg = (port: number, runMs = RUN_MS): LoadConfig => ({ port, names, inFlight: IN_FLIGHT, runMs, warmupMs: WARMUP_MS });
      const ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
      const dnsmasqPid = dnsmasq.proc.pid!;
      const dnsmasqCpu = () => processCpuSeconds(dnsmasqPid, ticks);

      await loadFrom(__filename, cfg(drover.port, 1000)); // JIT warm-up of the responder
      const droverRuns: Measured[] = [];
      const dnsmasqRuns: Measured[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        droverRuns.push(await measure(cfg(drover.port), ownCpuSeconds));
        dnsmasqRuns.push(await measure(cfg(dnsmasq.port), dnsmasqCpu));
      }
      await loadFrom(__filename, cfg(uncached.port, 1000));
      const uncachedRun = await measure(cfg(uncached.port), ownCpuSeconds);

      const { d, m } = medianPair(droverRuns, dnsmasqRuns);
      const ratio = d.qps / m.qps;
      return {
        name: "dns",
        unit: "queries/s",
        value: round(d.qps, 0),
        baseline: round(m.qps, 0),
        ratio: round(ratio, 3),
        goal: `>= ${RATIO_GOAL} x dnsmasq's queries/s on the same machine, p99 < ${P99_GOAL_MS} ms (${IN_FLIGHT} in flight)`,
        ok: ratio >= RATIO_GOAL && d.p99Ms < P99_GOAL_MS && d.errors === 0,
        extra: {
          inFlight: IN_FLIGHT,
          runMs: RUN_MS,
          names: names.length,
          droverP50Ms: round(d.p50Ms, 3),
          droverP99Ms: round(d.p99Ms, 3),
          dnsmasqP50Ms: round(m.p50Ms, 3),
          dnsmasqP99Ms: round(m.p99Ms, 3),
          // The load generator (one Node process) is the ceiling dnsmasq hits: compare CPU too.
          droverCpu: round(d.serverCpu, 2),
          dnsmasqCpu: round(m.serverCpu, 2),
          droverQpsPerCpu: round(d.qps / d.serverCpu, 0),
          dnsmasqQpsPerCpu: round(m.qps / m.serverCpu, 0),
          droverErrors: d.errors,
          droverLost: d.lost,
          dnsmasqLost: m.lost,
          droverRuns: droverRuns.map((x) => round(x.qps, 0)).join(" "),
          dnsmasqRuns: dnsmasqRuns.map((x) => round(x.qps, 0)).join(" "),
          // "before": the same responder encoding every answer with dns-packet (answer cache off).
          uncachedQps: round(uncachedRun.qps, 0),
          uncachedCpu: round(uncachedRun.serverCpu, 2),
          uncachedP99Ms: round(uncachedRun.p99Ms, 3),
          uncachedRatio: round(uncachedRun.qps / m.qps, 3),
        },
      };
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      await dnsmasq?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

if (require.main === module && process.argv[2] === "--dns-load") {
  runLoad(JSON.parse(process.argv[3]) as LoadConfig).then((r) => process.send!(r, () => process.exit(0)));
}
