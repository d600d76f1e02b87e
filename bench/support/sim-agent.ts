/**
 * Simulated agents: hosts that speak drover's real agent protocol over Redis, each as its
 * own ACL user, but start no containers. Every desired document is answered at once with an
 * observed document that has every instance `running`, built and written by the agent's own
 * code (agent/observed.ts buildObserved, agent/reports.ts Reports: SET observed, then XADD
 * reports `type observed generation N`).
 *
 * Per host, like the real agent (agent/redis-link.ts): one command connection (GET desired,
 * SET observed, SET heartbeat PX, XADD reports) and one blocking connection for XREAD BLOCK
 * on its nudges stream. A host's user may read only its own keys, so nudge readers cannot
 * be shared between hosts.
 */
import { createHash, generateKeyPairSync, KeyObject } from "crypto";
import { signRegistration } from "../../runtime/protocol/host-identity";
import type { ContainerInspectInfo } from "dockerode";
import Redis from "ioredis";
import { parseDesired } from "../../agent/desired";
import { initialCursor } from "../../agent/nudges";
import { buildObserved } from "../../agent/observed";
import type { RedisLink } from "../../agent/redis-link";
import { Reports } from "../../agent/reports";
import type { RegisterRequest, RegisterResponse } from "../../runtime/protocol/agent-protocol";
import type { HostDesiredState } from "../../runtime/protocol/model";
import { type HeartbeatCadence, sameCadence } from "../../runtime/protocol/heartbeat-cadence";
import { hostAgentRedisOptions } from "../../runtime/store/agent-redis-options";
import { request as httpsRequest } from "../../runtime/protocol/pinned-https";
import { HostKeys, makeKeys } from "../../runtime/protocol/keys";
import { createRedisClientForUrl } from "../../runtime/protocol/redis-client";

/** Counters shared by all simulated hosts of a process (epoch ms times). */
export interface SimStats {
  desiredSeen: number;
  observedWritten: number;
  instancesReported: number;
  firstDesiredAt?: number;
  lastDesiredAt?: number;
  lastObservedAt?: number;
  heartbeatsFailed: number;
  /** Heartbeat cadences followed from desired documents (a large environment's stretched one, agent/heartbeat.ts). */
  cadenceChanges: number;
  errors: number;
  lastError?: string;
}

export function newSimStats(): SimStats {
  return {
    desiredSeen: 0, observedWritten: 0, instancesReported: 0, heartbeatsFailed: 0, cadenceChanges: 0, errors: 0,
    firstDesiredAt: undefined, lastDesiredAt: undefined, lastObservedAt: undefined, lastError: undefined,
  };
}

const agentVersion = "0.1.0-sim";

/** A docker inspect result just rich enough for statusFromInspect: running since now. */
function fakeInspect(instanceId: string, startedAt: string): ContainerInspectInfo {
  const id = createHash("sha256").update(instanceId).digest("hex");
  return { Id: id, State: { Running: true, StartedAt: startedAt, ExitCode: 0 }, RestartCount: 0 } as unknown as ContainerInspectInfo;
}

/** The observed document a real agent writes once every desired container runs. */
export function allRunning(desired: HostDesiredState, now = new Date()): ReturnType<typeof buildObserved> {
  const startedAt = now.toISOString();
  const inspected = new Map(desired.instances.map((i) => [i.id, fakeInspect(i.id, startedAt)]));
  return buildObserved(desired, inspected, new Map(), now);
}

export interface SimHostOptions {
  /** Answer desired documents with observed ones (false: heartbeat only). */
  reportObserved: boolean;
}

export class SimHost {
  readonly keys: HostKeys;
  readonly cmd: Redis;
  readonly blocking: Redis;
  private readonly reports: Reports;
  private heartbeatTimer?: NodeJS.Timeout;
  /** The cadence beats follow: the registration's until a desired document stretches it (agent/heartbeat.ts). */
  private cadence: HeartbeatCadence;
  private stopped = false;
  private cursor: string;
  private lastGeneration = 0;
  /** The last desired document answered. */
  lastDesired?: HostDesiredState;
  private running?: Promise<void>;
  private pending = false;

  constructor(readonly response: RegisterResponse, registeredAt: string, private readonly stats: SimStats, private readonly opts: SimHostOptions) {
    this.keys = makeKeys(response.redis.keyPrefix).host(response.envId, response.hostId);
    const base = { lazyConnect: true, maxRetriesPerRequest: 2, retryStrategy: (n: number) => Math.min(100 * n, 2000) };
    // rediss://: the client certificate the server issued for the (shared) simulated host key, as agent/redis-tls-credentials.ts does.
    const creds = response.redis.clientCert ? { ...response.redis, clientKey: simHostKey().privateKeyPem } : response.redis;
    // redis+cluster://: a Cluster client, as the real agent makes (runtime/protocol/redis-client.ts).
    this.cmd = createRedisClientForUrl(creds.url, "redis.url", hostAgentRedisOptions(creds, { ...base, connectionName: `sim-${response.hostId}` }));
    this.blocking = createRedisClientForUrl(creds.url, "redis.url", hostAgentRedisOptions(creds, { ...base, connectionName: `sim-${response.hostId}-nudges` }));
    for (const c of [this.cmd, this.blocking]) c.on("error", (err) => this.fail(err));
    // Reports needs only `link.cmd`.
    this.reports = new Reports({ cmd: this.cmd } as unknown as RedisLink, this.keys);
    this.cursor = initialCursor(registeredAt);
    this.cadence = { intervalMs: response.heartbeatIntervalMs, ttlMs: response.heartbeatTtlMs };
  }

  get hostId(): string { return this.response.hostId; }

  /** The heartbeat cadence this host follows now. */
  get heartbeatCadence(): HeartbeatCadence { return this.cadence; }

  async start(): Promise<void> {
    // Wait for `ready`, not connect()'s promise: a first attempt refused under a connection
    // storm (a Cluster's slots refresh timing out: "None of startup nodes is available")
    // rejects connect() though the client retries (its retryStrategy), as a real agent does.
    await Promise.all([this.cmd, this.blocking].map((c) => new Promise<void>((resolve, reject) => {
      let last = "";
      c.on("error", (err: Error) => { last = err.message; });
      const timer = setTimeout(() => reject(new Error(`simulated host ${this.response.hostId}: Redis not ready within ${READY_TIMEOUT_MS} ms (last error: ${last || "none"})`)), READY_TIMEOUT_MS);
      c.once("ready", () => { clearTimeout(timer); resolve(); });
      c.connect().catch(() => undefined);
    })));
    await this.beat();
    this.scheduleBeats();
    void this.nudgeLoop();
    if (this.opts.reportObserved) this.trigger();
  }

  /** Beats every interval, the first after a random part of it: spread over the interval, as independent agents would be. */
  private scheduleBeats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    const interval = this.cadence.intervalMs;
    this.heartbeatTimer = setTimeout(() => {
      if (this.stopped) return;
      void this.beat();
      this.heartbeatTimer = setInterval(() => void this.beat(), interval);
    }, Math.random() * interval);
  }

  /** As agent/heartbeat.ts follow(): one beat with the new TTL at once, then the new interval. */
  private followCadence(cadence: HeartbeatCadence): void {
    if (sameCadence(cadence, this.cadence)) return;
    this.cadence = cadence;
    this.stats.cadenceChanges++;
    void this.beat();
    this.scheduleBeats();
  }

  stop(): void {
    this.stopped = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.cmd.disconnect();
    this.blocking.disconnect();
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.cmd.set(this.keys.heartbeat, JSON.stringify({ at: new Date().toISOString(), agentVersion }), "PX", this.cadence.ttlMs);
    } catch (err) {
      this.stats.heartbeatsFailed++;
      this.fail(err);
    }
  }

  private async nudgeLoop(): Promise<void> {
    while (!this.stopped) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await this.blocking.xread("COUNT", 100, "BLOCK", 5000, "STREAMS", this.keys.nudges, this.cursor)) as typeof reply;
      } catch (err) {
        if (this.stopped) return;
        this.fail(err);
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      for (const [, entries] of reply ?? []) {
        for (const [id] of entries) this.cursor = id;
        if (entries.length && this.opts.reportObserved) this.trigger();
      }
    }
  }

  /** Coalesced like agent/coalescer.ts: one run at a time, one more if triggered meanwhile. */
  private trigger(): void {
    this.pending = true;
    if (this.running) return;
    this.running = (async () => {
      while (this.pending && !this.stopped) {
        this.pending = false;
        try { await this.reconcile(); } catch (err) { this.fail(err); }
      }
    })().finally(() => { this.running = undefined; });
  }

  private async reconcile(): Promise<void> {
    const text = await this.cmd.get(this.keys.desired);
    if (text === null) return;
    const desired = parseDesired(text, this.hostId);
    if (desired.generation <= this.lastGeneration) return;
    this.followCadence(desired.heartbeat ?? { intervalMs: this.response.heartbeatIntervalMs, ttlMs: this.response.heartbeatTtlMs });
    const now = Date.now();
    this.stats.desiredSeen++;
    this.stats.firstDesiredAt ??= now;
    this.stats.lastDesiredAt = now;
    await this.writeObserved(allRunning(desired));
    this.lastGeneration = desired.generation;
    this.lastDesired = desired;
    this.stats.observedWritten++;
    this.stats.instancesReported += desired.instances.length;
    this.stats.lastObservedAt = Date.now();
  }

  /** SET observed, then XADD reports `type observed generation N` (agent/reports.ts). */
  writeObserved(observed: ReturnType<typeof buildObserved>): Promise<void> {
    return this.reports.observed(observed);
  }

  private fail(err: unknown): void {
    if (this.stopped) return;
    this.stats.errors++;
    this.stats.lastError = (err as Error)?.message ?? String(err);
  }
}

/** How long a simulated host's Redis clients may take to be ready (retrying meanwhile). */
const READY_TIMEOUT_MS = Number(process.env.SIM_READY_TIMEOUT_MS ?? 120_000);

/** An unsigned registration request for simulated host `name`. */
export type SimRegisterRequest = Omit<RegisterRequest, "signature" | "signedAt">;

let simKey: { privateKey: KeyObject; privateKeyPem: string; publicKeyPem: string } | undefined;

/**
 * The key pair every simulated host of the process signs its registrations with: one RSA key
 * made once (real agents each make their own; the server does not require them to differ).
 */
export function simHostKey(): { privateKey: KeyObject; privateKeyPem: string; publicKeyPem: string } {
  if (!simKey) {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    simKey = {
      privateKey, privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    };
  }
  return simKey;
}

/** Registers simulated host `name` with `registrationToken`, starts it reporting, and adds it to `sims` (for the caller's teardown). */
export async function startSimHost(serverUrl: string, registrationToken: string, name: string, stats: SimStats, sims: SimHost[]): Promise<SimHost> {
  const registeredAt = new Date().toISOString();
  const r = await registerSimHost(serverUrl, simRegisterRequest(registrationToken, name));
  const sim = new SimHost(r.response, registeredAt, stats, { reportObserved: true });
  sims.push(sim);
  await sim.start();
  return sim;
}

/** A registration request for simulated host `name` (signed per attempt by registerSimHost). */
export function simRegisterRequest(token: string, name: string, labels: Record<string, string> = {}): SimRegisterRequest {
  return {
    token, machineId: `sim-${name}`, hostname: name, labels,
    agentVersion, dockerVersion: "20.10.24", kernelVersion: "6.1.0", identityKey: simHostKey().publicKeyPem,
  };
}

/**
 * POST /v1/register, retried while the server says the error is retryable (revision races); each attempt signed afresh.
 * `ca`: an https server's pinned CA (PEM), through the agent's own client (runtime/protocol/pinned-https.ts).
 */
export async function registerSimHost(serverUrl: string, request: SimRegisterRequest, ca?: string): Promise<{ response: RegisterResponse; retries: number }> {
  for (let attempt = 0; ; attempt++) {
    const signed = signRegistration({ ...request, signedAt: new Date().toISOString() }, simHostKey().privateKey);
    const init = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(signed) };
    // A request that failed below HTTP (a connection reset or timed out on a machine loaded
    // past its cores: "fetch failed" ended a 5,000-agent run) is retried as a real agent's
    // registration loop would, and counted with the retries.
    const res = await (ca
      ? httpsRequest(`${serverUrl}/v1/register`, { ...init, ca })
      : fetch(`${serverUrl}/v1/register`, init).then(async (r) => ({ status: r.status, text: await r.text() })))
      .catch((err: Error & { cause?: Error }) => ({ status: 0, text: `${err.message}${err.cause ? `: ${err.cause.message}` : ""}` }));
    const text = res.text;
    if (res.status === 201) return { response: JSON.parse(text) as RegisterResponse, retries: attempt };
    let retryable = res.status >= 500 || res.status === 0;
    try { retryable ||= JSON.parse(text).retryable === true; } catch { /* not JSON */ }
    if (!retryable || attempt >= 20) throw new Error(`register ${request.hostname}: HTTP ${res.status} ${text.slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
  }
}
