/**
 * Registration at scale: 1,000 hosts POST /v1/register at once (all in flight together),
 * through the agent's real path (signed RegisterRequest, bench/support/sim-agent.ts), to a
 * `drover server` child process on a private redis-server. Measured: from the first POST to
 * the last 201, requests signed beforehand (each real agent signs on its own machine). Then
 * the same 1,000 machines register again (an agent restart: the known-host path).
 *
 * Baseline, same run, same Redis: the raw Redis writes a registration makes for the same
 * records (ACL SETUSER of the host's user, the host record, its name and machine index
 * entries, the rev, the events and reconcile entries, the host's sealed key), all 1,000 at
 * once from one client like the server's, no HTTP, no checks.
 * ratio = drover seconds / baseline seconds.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { performance } from "perf_hooks";
import type { RegisterRequest } from "../runtime/protocol/agent-protocol";
import { signRegistration } from "../runtime/protocol/host-identity";
import { makeKeys } from "../runtime/protocol/keys";
import { hostUserAclRules, hostUsername } from "../runtime/store/host-acl";
import { freePort } from "../test/support/free-port";
import { startPrivateRedis, type PrivateRedis } from "../test/support/redis-server";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { createEnvironment, waitForOk } from "./support/http";
import { Child, spawnServer } from "./support/procs";
import { simHostKey, simRegisterRequest } from "./support/sim-agent";

const HOSTS = Number(process.env.REGISTER_BENCH_HOSTS ?? 1000);
const GOAL_S = 5;
const NETWORK = { cidr: "10.0.0.0/12", hostSubnetPrefix: 24 };

export const benchmark: Benchmark = {
  name: "register",
  summary: "seconds for 1,000 hosts registering at once over the real API (vs the raw Redis writes of the same records)",
  run: measureRegister,
};

interface Wave { ms: number; retries: number; failures: string[] }

/** All requests in flight at once; a retryable answer (5xx, `retryable`) is signed afresh and sent again. */
async function wave(url: string, requests: RegisterRequest[]): Promise<Wave> {
  let retries = 0;
  const failures: string[] = [];
  const t0 = performance.now();
  await Promise.all(requests.map(async (first) => {
    let signed = first;
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${url}/v1/register`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(signed) });
      const text = await res.text();
      if (res.status === 201) return;
      let retryable = res.status >= 500;
      try { retryable ||= JSON.parse(text).retryable === true; } catch { /* not JSON */ }
      if (!retryable || attempt >= 20) { failures.push(`HTTP ${res.status} ${text.slice(0, 200)}`); return; }
      retries++;
      const { signature: _old, ...unsigned } = first;
      signed = signRegistration({ ...unsigned, signedAt: new Date().toISOString() }, simHostKey().privateKey);
    }
  }));
  return { ms: performance.now() - t0, retries, failures };
}

function signAll(token: string): RegisterRequest[] {
  const key = simHostKey().privateKey;
  return Array.from({ length: HOSTS }, (_, i) =>
    signRegistration({ ...simRegisterRequest(token, `reg-${String(i).padStart(4, "0")}`), signedAt: new Date().toISOString() }, key));
}

/** The raw writes of HOSTS registrations, all at once on one connection (the server's shape). */
async function rawWrites(redis: PrivateRedis, template: RegisterRequest): Promise<number> {
  const client = redis.client();
  const keys = makeKeys(`raw${randomBytes(3).toString("hex")}`);
  const envId = "e1";
  const env = keys.env(envId);
  try {
    await client.set(env.rev, "1");
    const t0 = performance.now();
    await Promise.all(Array.from({ length: HOSTS }, async (_, i) => {
      const hostId = `h${i}`;
      const name = `reg-${String(i).padStart(4, "0")}`;
      const record = JSON.stringify({
        id: hostId, envId, deactivated: false, createdAt: new Date().toISOString(), machineId: `sim-${name}`, name,
        labels: template.labels, agentVersion: template.agentVersion, dockerVersion: template.dockerVersion,
        kernelVersion: template.kernelVersion, identityKey: template.identityKey, identitySignedAt: template.signedAt, state: "active",
      });
      await client.call("ACL", "SETUSER", hostUsername(keys, envId, hostId), ...hostUserAclRules(keys, envId, hostId, randomBytes(24).toString("base64url")));
      const rev = await client.incr(env.rev);
      await client.multi()
        .hset(env.hosts, hostId, record.slice(0, -1) + `,"rev":${rev}}`)
        .hset(env.hostNames, name, hostId)
        .hset(env.hostMachines, `sim-${name}`, hostId)
        .xadd(env.events, "MAXLEN", "~", "10000", "*", "type", "host", "action", "created", "id", hostId, "rev", String(rev))
        .xadd(env.reconcile, "MAXLEN", "~", "1000", "*", "type", "write", "rev", String(rev))
        .hsetnx(env.hostSealKeys, hostId, randomBytes(60).toString("base64"))
        .exec();
    }));
    return performance.now() - t0;
  } finally {
    client.disconnect();
  }
}

async function measureRegister(): Promise<BenchResult> {
  const dir = fs.mkdtempSync(join(tmpdir(), "drover-register-"));
  const adminKey = `admin-${randomBytes(12).toString("hex")}`;
  const adminKeyFile = join(dir, "admin-key");
  fs.writeFileSync(adminKeyFile, adminKey + "\n", { mode: 0o600 });
  let redis: PrivateRedis | undefined;
  let server: Child | undefined;
  try {
    redis = await startPrivateRedis();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    server = spawnServer({ listen: `127.0.0.1:${port}`, redis: redis.url, adminKeyFile, keyPrefix: "reg", logFile: join(dir, "server.log"), disconnectGrace: "30s" });
    await waitForOk(`${url}/healthz`, { alive: server.alive, intervalMs: 10 });
    const env = await createEnvironment(url, adminKey, "register", NETWORK);

    const first = await wave(url, signAll(env.registrationToken));
    const again = await wave(url, signAll(env.registrationToken));
    // Not ?state=active: these hosts never heartbeat, so the reconciler soon marks them reconnecting.
    const hosts = await env.api.total(`${env.base}/hosts`);
    const failures = [...first.failures, ...again.failures];
    if (failures.length) throw new Error(`${failures.length} registrations failed, first: ${failures[0]}`);
    if (hosts !== HOSTS) throw new Error(`${hosts} hosts after registering ${HOSTS} machines twice, want ${HOSTS}`);

    const baselineMs = rawWrites(redis, signAll(env.registrationToken)[0]);
    const floorMs = await baselineMs;
    const value = first.ms / 1000;
    const baseline = floorMs / 1000;
    console.log(`register: ${HOSTS} new hosts ${round(first.ms, 0)} ms (${first.retries} retries), again ${round(again.ms, 0)} ms (${again.retries} retries); raw writes ${round(floorMs, 0)} ms`);
    return {
      name: "register",
      unit: "s",
      value: round(value, 3),
      baseline: round(baseline, 3),
      ratio: round(value / baseline, 2),
      goal: `< ${GOAL_S} s for ${HOSTS} hosts registering at once`,
      ok: value < GOAL_S,
      extra: {
        hosts: HOSTS,
        newHostsMs: round(first.ms, 0),
        newHostsRetries: first.retries,
        perSecond: round(HOSTS / value, 0),
        reRegisterMs: round(again.ms, 0),
        reRegisterRetries: again.retries,
        rawWritesMs: round(floorMs, 0),
      },
    };
  } finally {
    await server?.stop();
    await redis?.stop();
    if (process.env.DROVER_BENCH_KEEP) console.error(`kept ${dir}`); else fs.rmSync(dir, { recursive: true, force: true });
  }
}
