/**
 * One Sentinel failover under a control-plane workload, shared by the failover test
 * (test/runtime/store/sentinel-failover.test.ts, small) and the `failover` bench (larger):
 * a primary, two replicas and three sentinels on loopback (test/support/redis-sentinel.ts),
 * `drover server` on the Sentinel URL, simulated agents on the real protocol (their own ACL
 * users, found through the same URL), a service placed on them, and API writers creating
 * stacks without pause. Then the primary is SIGKILLed.
 *
 * Measured: time from the kill to the first API write acknowledged after it (refused
 * seconds); every acknowledged stack checked present afterwards (lost writes); agents seen
 * heartbeating on the new primary; instances unmoved; a registration after the failover.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import Redis from "ioredis";
import { tmpdir } from "os";
import { join } from "path";
import { performance } from "perf_hooks";
import { freePort } from "../../test/support/free-port";
import { startSentinelGroup, type SentinelGroup } from "../../test/support/redis-sentinel";
import { waitFor } from "../../test/support/wait";
import { parseRedisUrl, redisTargetOptions } from "../../runtime/protocol/redis-target";
import { createEnvironment, NoAnswerError, waitForOk } from "./http";
import { loadOrCreateCa } from "../../runtime/tls/ca";
import { Child, mapLimit, spawnServer } from "./procs";
import { newSimStats, SimHost, startSimHost } from "./sim-agent";

export interface FailoverResult {
  /** Kill → first write acknowledged after it (ms). */
  refusedMs: number;
  /** Kill → the sentinels name a new primary (ms). */
  promotedMs: number;
  acked: number;
  failed: number;
  /** Acknowledged stacks missing afterwards. */
  lost: string[];
  hosts: number;
  /** Hosts whose heartbeat reached the new primary after the kill. */
  hostsOnNewPrimary: number;
  /** Hosts users were present on, per data node, before the kill. */
  usersPerNode: number[];
  instances: number;
  /** Instances gone or on another host after the failover. */
  instancesMoved: number;
  registeredAfter: boolean;
  /**
   * API writes that got no answer at all in WRITE_ANSWER_MS (an error is an answer). The server
   * bounds every Redis command (--redis-command-timeout, 30 s), so a request held longer is a hang.
   */
  unanswered: number;
}

/** Above the server's Redis command bound (30 s) and its replica WAIT (1 s): longer than this is no answer. */
const WRITE_ANSWER_MS = 45_000;

/** `tls`: Redis, replication and the sentinels TLS only with client certificates from the server's CA (rediss+sentinel://). */
export async function runFailover(opts: { hosts: number; instances: number; writers: number; logDir?: string; tls?: boolean }): Promise<FailoverResult> {
  const dir = opts.logDir ?? fs.mkdtempSync(join(tmpdir(), "drover-failover-"));
  const adminKey = `admin-${randomBytes(12).toString("hex")}`;
  const adminKeyFile = join(dir, "admin-key");
  fs.writeFileSync(adminKeyFile, adminKey + "\n", { mode: 0o600 });
  const keyPrefix = `fo${randomBytes(3).toString("hex")}`;
  let group: SentinelGroup | undefined;
  let server: Child | undefined;
  const sims: SimHost[] = [];
  try {
    const tlsDir = join(dir, "tls");
    const ca = opts.tls ? await loadOrCreateCa(tlsDir) : undefined;
    group = await startSentinelGroup({ replicas: 2, sentinels: 3, downAfterMs: 1000, tls: ca });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    server = spawnServer({
      listen: `127.0.0.1:${port}`, redis: group.url, adminKeyFile, keyPrefix, logFile: join(dir, "server.log"), disconnectGrace: "30s",
      extraArgs: ["--master-key-file", join(dir, "master-key"), ...(ca ? ["--tls-dir", tlsDir] : [])],
    });
    await waitForOk(`${url}/healthz`, { alive: server.alive, intervalMs: 20, timeoutMs: 20_000 });
    const env = await createEnvironment(url, adminKey, "failover");
    const stats = newSimStats();
    const register = (name: string) => startSimHost(url, env.registrationToken, name, stats, sims);
    await mapLimit(Array.from({ length: opts.hosts }, (_, i) => i), 16, (i) => register(`fo-${i}`));
    const primary0 = await group.primaryPort();
    const usersPerNode = await Promise.all(group.dataPorts.map(async (p) =>
      ((await group!.node(p).call("ACL", "USERS")) as string[]).filter((u) => u.startsWith(`${keyPrefix}-host-`)).length));

    const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "app" });
    const svc = await env.api.ok("POST", `${env.base}/services`, { stackId: stack.id, name: "web", image: "local/busybox", command: ["sleep", "3600"], scale: opts.instances });
    await waitFor(async () => (await env.api.ok("GET", `${env.base}/services/${svc.id}`)).transitioning === "no",
      { what: "service placed and active", timeoutMs: 60_000, maxIntervalMs: 200 })
      .catch((err) => { throw new Error(`${(err as Error).message}; simulated agents: ${stats.errors} errors, last: ${stats.lastError}`); });
    const placement = async () => new Map(((await env.api.ok("GET", `${env.base}/instances?serviceId=${svc.id}&limit=1000`)).data as { id: string; hostId: string; state: string }[])
      .filter((i) => i.state === "active").map((i) => [i.id, i.hostId]));
    const before = await placement();

    // API writers: stacks created back to back; each acknowledged name must survive.
    const acked: string[] = [];
    const okTimes: number[] = [];
    let killAt = Infinity;
    let failed = 0;
    let unanswered = 0;
    // Why writes were refused after the kill (status and message, counted): printed when the harness gives up.
    const refusals = new Map<string, number>();
    let writing = true;
    const writers = Array.from({ length: opts.writers }, async (_, w) => {
      for (let i = 0; writing; i++) {
        const name = `w${w}-${i}`;
        const started = performance.now();
        const res = await env.api.call("POST", `${env.base}/stacks`, { name }, { timeoutMs: WRITE_ANSWER_MS }).catch((err: Error) => {
          if (err instanceof NoAnswerError) unanswered++;
          return { status: 0, body: { message: err.message } as unknown };
        });
        // Kept only for writes started after the kill, so one in flight across it does not count.
        if (res.status === 201) { acked.push(name); if (started > killAt) okTimes.push(performance.now()); } else {
          failed++;
          if (started > killAt) {
            const reason = `${res.status} ${String((res.body as { message?: unknown } | undefined)?.message ?? JSON.stringify(res.body)).slice(0, 200)}`;
            refusals.set(reason, (refusals.get(reason) ?? 0) + 1);
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    await waitFor(() => acked.length >= 20, { what: "writes flowing", timeoutMs: 10_000 });
    killAt = performance.now();
    const killEpoch = Date.now();
    await group.kill(primary0);
    let promotedMs = NaN;
    await waitFor(async () => {
      if (Number.isNaN(promotedMs) && (await group!.primaryPort()) !== primary0) promotedMs = performance.now() - killAt;
      return !Number.isNaN(promotedMs) && okTimes.filter((t) => t > killAt).length >= 20;
    }, {
      // A deadline for the harness, not the goal (refusedMs is judged by the caller). Under a
      // loaded machine with TLS the second replica's resync can hold WAIT 1 for a while.
      what: () => `writes acknowledged after the failover (promoted after ${Number.isNaN(promotedMs) ? "not yet" : `${Math.round(promotedMs)} ms`}, ${okTimes.filter((t) => t > killAt).length} of 20 acknowledged, ${failed} refused: ${JSON.stringify([...refusals])})`,
      timeoutMs: 60_000, maxIntervalMs: 100,
    });
    writing = false;
    await Promise.all(writers);
    const refusedMs = (okTimes.find((t) => t > killAt) ?? NaN) - killAt;

    const primary1 = group.node(await group.primaryPort());
    const names = new Set<string>();
    const stacksKey = `${keyPrefix}:{${env.id}}:stacks`;
    for (const raw of await primary1.hvals(stacksKey)) names.add((JSON.parse(raw) as { name: string }).name);
    const lost = acked.filter((n) => !names.has(n));

    // Agents on the new primary: each heartbeat rewritten there after the kill.
    let hostsOnNewPrimary = 0;
    await waitFor(async () => {
      hostsOnNewPrimary = 0;
      for (const sim of sims) {
        const beat = await primary1.get(sim.keys.heartbeat);
        if (beat && Date.parse((JSON.parse(beat) as { at: string }).at) > killEpoch) hostsOnNewPrimary++;
      }
      return hostsOnNewPrimary === sims.length;
    }, { what: "every agent heartbeating on the new primary", timeoutMs: 15_000, maxIntervalMs: 200 }).catch(() => undefined);

    const after = await placement();
    const instancesMoved = [...before].filter(([id, hostId]) => after.get(id) !== hostId).length;
    const registeredAfter = await register("fo-after").then(() => true, () => false);
    return {
      refusedMs, promotedMs, acked: acked.length, failed, lost, hosts: opts.hosts, hostsOnNewPrimary,
      usersPerNode, instances: before.size, instancesMoved, registeredAfter, unanswered,
    };
  } finally {
    for (const sim of sims) sim.stop();
    await server?.stop();
    await group?.stop();
    if (!opts.logDir && !process.env.DROVER_BENCH_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The floor: the same failover with no control plane: `writers` loops writing one hash field
 * each through ioredis's Sentinel client, acknowledged after WAIT 1 like the server's writes.
 */
export async function runRawFailover(writers: number): Promise<{ refusedMs: number; acked: number; lost: number }> {
  const group = await startSentinelGroup({ replicas: 2, sentinels: 3, downAfterMs: 1000 });
  const client = new Redis({ ...redisTargetOptions(parseRedisUrl(group.url, "url"), undefined), failoverDetector: true, maxRetriesPerRequest: 1 });
  client.on("error", () => undefined);
  try {
    const acked: string[] = [];
    const okTimes: number[] = [];
    let killAt = Infinity;
    let writing = true;
    const loops = Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; writing; i++) {
        const name = `w${w}-${i}`;
        const started = performance.now();
        try {
          await client.hset("raw:stacks", name, JSON.stringify({ name }));
          if (Number(await client.call("WAIT", 1, 1000)) < 1) throw new Error("not replicated");
          acked.push(name);
          if (started > killAt) okTimes.push(performance.now());
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    await waitFor(() => acked.length >= 20, { what: "raw writes flowing", timeoutMs: 10_000 });
    const primary0 = await group.primaryPort();
    killAt = performance.now();
    await group.kill(primary0);
    await waitFor(() => okTimes.filter((t) => t > killAt).length >= 20, { what: "raw writes after the failover", timeoutMs: 30_000, maxIntervalMs: 100 });
    writing = false;
    await Promise.all(loops);
    const present = new Set(await group.node(await group.primaryPort()).hkeys("raw:stacks"));
    return { refusedMs: (okTimes.find((t) => t > killAt) ?? NaN) - killAt, acked: acked.length, lost: acked.filter((n) => !present.has(n)).length };
  } finally {
    client.disconnect();
    await group.stop();
  }
}
