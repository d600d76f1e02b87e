/**
 * Mesh readiness: time from a host joining (the agent started on a fresh lab host) until
 * traffic flows over the overlay between it and every other host of its environment.
 *
 * Setup: a lab of 6 hosts, a private Redis and `drover server` (test/support/control-plane),
 * agents on h1..h3 with their mesh up. Then h4, h5 and h6 join one after another (so the
 * joining host has 3, 4, then 5 peers). For each: the clock starts when the agent process is
 * spawned; from the joining host's namespace, a ping from its bridge address (drover0, the
 * first address of its subnet) to every peer's bridge address is tried again and again; the
 * clock stops when every peer has answered. A reply proves both directions of the tunnel and
 * both hosts' routing and forwarding. Phases (registered, bridge up) come from the same loop.
 * value = median over the joins; the goal is an absolute one (< 2 s), there is no baseline.
 */
import * as fs from "fs";
import * as path from "path";
import { performance } from "perf_hooks";
import { Lab, type LabHost } from "../test/lab";
import { ControlPlane, type EnvAccess } from "../test/support/control-plane";
import { waitFor } from "../test/support/wait";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { droverBin } from "./support/procs";

const BASE = 3;
const JOINS = 3;
const GOAL_MS = 2000;

function startAgent(cp: ControlPlane, host: LabHost, env: EnvAccess): void {
  const out = fs.openSync(path.join(cp.logDir, `agent-${host.index}.log`), "a");
  const proc = host.spawn([process.execPath, droverBin, "agent", "--url", cp.url, "--token", env.registrationToken,
    "--state-dir", path.join(host.dir, "drover-agent"), "--underlay-ip", host.underlayIp], { stdio: ["ignore", out, out] });
  fs.closeSync(out);
  cp.agents.set(host.name, proc);
}

/** The host's bridge address (its subnet's gateway) once the agent made the drover network. */
async function bridgeAddress(host: LabHost): Promise<string | undefined> {
  const r = await host.exec(["ip", "-o", "-4", "addr", "show", "dev", "drover0"]);
  return r.code === 0 ? /inet (\d+\.\d+\.\d+\.\d+)\//.exec(r.stdout)?.[1] : undefined;
}

async function pings(host: LabHost, from: string, to: string): Promise<boolean> {
  const r = await host.exec(["busybox", "ping", "-c", "1", "-W", "1", "-I", from, to], { timeoutMs: 3_000 });
  return r.code === 0;
}

interface Join { totalMs: number; bridgeMs: number; peers: number }

async function join(cp: ControlPlane, env: EnvAccess, host: LabHost, peers: LabHost[]): Promise<Join> {
  const peerAddrs = await Promise.all(peers.map(async (p) => (await bridgeAddress(p))!));
  const t0 = performance.now();
  startAgent(cp, host, env);
  const gw = await waitFor(() => bridgeAddress(host), { what: `drover0 on ${host.name}`, timeoutMs: 30_000, intervalMs: 10, maxIntervalMs: 20 });
  const bridgeMs = performance.now() - t0;
  const pending = new Set(peerAddrs);
  await waitFor(async () => {
    await Promise.all([...pending].map(async (to) => { if (await pings(host, gw, to)) pending.delete(to); }));
    return pending.size === 0;
  }, { what: `${host.name} reaching all ${peers.length} peers`, timeoutMs: 30_000, intervalMs: 10, maxIntervalMs: 20 });
  return { totalMs: performance.now() - t0, bridgeMs, peers: peers.length };
}

export const benchmark: Benchmark = {
  name: "mesh-ready",
  summary: "ms from a host's agent starting until overlay traffic flows to all its peers (goal < 2 s)",
  async run(): Promise<BenchResult> {
    const lab = await Lab.up({ hosts: BASE + JOINS, name: "bench-mesh-ready", watchdog: true });
    let cp: ControlPlane | undefined;
    try {
      cp = await ControlPlane.start(lab, { graceMs: 30_000 });
      await cp.startServer("s1");
      const env = await cp.createEnvironment("mesh");
      const base = lab.hosts.slice(0, BASE);
      for (const h of base) startAgent(cp, h, env);
      // The base mesh: every base host reaches every other one.
      for (const h of base) {
        const from = await waitFor(() => bridgeAddress(h), { what: `drover0 on ${h.name}`, timeoutMs: 30_000 });
        for (const p of base.filter((x) => x !== h)) {
          const to = await waitFor(() => bridgeAddress(p), { what: `drover0 on ${p.name}`, timeoutMs: 30_000 });
          await waitFor(() => pings(h, from, to), { what: `${h.name} → ${p.name}`, timeoutMs: 30_000 });
        }
      }
      const joins: Join[] = [];
      for (let k = 0; k < JOINS; k++) {
        const host = lab.hosts[BASE + k];
        const j = await join(cp, env, host, lab.hosts.slice(0, BASE + k));
        console.error(`${host.name} joined: bridge up after ${j.bridgeMs.toFixed(0)} ms, all ${j.peers} peers reachable after ${j.totalMs.toFixed(0)} ms`);
        joins.push(j);
      }
      const sorted = [...joins].sort((a, b) => a.totalMs - b.totalMs);
      const value = sorted[Math.floor((sorted.length - 1) / 2)].totalMs;
      return {
        name: "mesh-ready", unit: "ms", value: round(value, 0),
        goal: `< ${GOAL_MS} ms from agent start to traffic with every peer`, ok: value < GOAL_MS,
        extra: {
          joins: joins.map((j) => `${j.peers} peers: ${j.totalMs.toFixed(0)} ms (bridge ${j.bridgeMs.toFixed(0)} ms)`).join("; "),
          maxMs: round(Math.max(...joins.map((j) => j.totalMs)), 0),
        },
      };
    } finally {
      await cp?.stop().catch(() => undefined);
      await lab.down();
    }
  },
};
