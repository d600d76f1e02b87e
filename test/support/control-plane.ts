import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { Lab, LabHost } from "../lab";
import { freePort } from "./free-port";
import { startPrivateRedis, type PrivateRedis } from "./redis-server";
import { startSentinelGroup, type SentinelGroup } from "./redis-sentinel";
import Redis from "ioredis";
import { parseRedisUrl, redisTargetOptions } from "../../runtime/protocol/redis-target";
import { waitFor } from "./wait";
import { request } from "../../runtime/protocol/pinned-https";
import { loadOrCreateCa, type CertificateAuthority } from "../../runtime/tls/ca";

const repoRoot = path.resolve(__dirname, "../../..");
const droverBin = path.join(repoRoot, "bin", "drover.js");

/** A JSON client for drover's API with one bearer key; `ca`: an https server's CA (PEM), trusted alone. */
export class ApiClient {
  constructor(readonly baseUrl: string, private readonly key: string, private readonly ca?: string) {}

  async call(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: any }> {
    const init = {
      method,
      headers: { authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    };
    // fetch takes no CA: https goes through the agents' own client.
    const res = this.ca
      ? await request(this.baseUrl + urlPath, { ...init, ca: this.ca })
      : await fetch(this.baseUrl + urlPath, init).then(async (r) => ({ status: r.status, text: await r.text() }));
    const text = res.text;
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, body: parsed };
  }

  async ok(method: string, urlPath: string, body?: unknown): Promise<any> {
    const res = await this.call(method, urlPath, body);
    if (res.status >= 300) throw new Error(`${method} ${urlPath} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
}

export interface EnvAccess {
  id: string;
  apiKey: string;
  registrationToken: string;
  api: ApiClient;
  /** Path prefix of the environment's collections. */
  base: string;
}

/**
 * The control plane around a lab: a private Redis and drover servers listening on the lab's
 * gateway (so agents in lab hosts reach them), agents started inside hosts. Every process is
 * a child of the test, stopped by pid at teardown.
 */
export class ControlPlane {
  readonly servers = new Map<string, ChildProcess>();
  readonly agents = new Map<string, ChildProcess>();
  readonly adminKey = "admin-" + Math.random().toString(36).slice(2) + "-0123456789";
  /** With TLS: the CA the server, Redis and agents use (its dir is the servers' --tls-dir). */
  ca?: CertificateAuthority;
  /** With `sentinel`: the Sentinel-watched Redis (a primary, 2 replicas, 3 sentinels) on the gateway; `redis` follows its primary. */
  sentinel?: SentinelGroup;
  private tlsDir = "";
  readonly keyPrefix = "cp" + Math.random().toString(36).slice(2, 8);
  private adminKeyFile = "";
  port = 0;

  private constructor(readonly lab: Lab, readonly redis: PrivateRedis, readonly logDir: string, readonly graceMs: number) {}

  /**
   * A test's usual start: the control plane on `lab` (stopped at teardown), one server, an
   * environment, and an agent on each lab host with the labels `labels(i)` gives.
   */
  static async forTest(
    t: { teardown(fn: () => unknown): void }, lab: Lab, opts: { graceMs: number; envName: string; labels?: (i: number) => Record<string, string>; sentinel?: boolean },
  ): Promise<{ cp: ControlPlane; env: EnvAccess; hostById: Map<string, LabHost> }> {
    const cp = await ControlPlane.start(lab, { graceMs: opts.graceMs, sentinel: opts.sentinel });
    t.teardown(() => cp.stop());
    await cp.startServer("s1");
    const env = await cp.createEnvironment(opts.envName);
    lab.hosts.forEach((h, i) => cp.startAgent(h, env, opts.labels?.(i) ?? {}));
    const hostById = await cp.activeHosts(env, lab.hosts.length);
    return { cp, env, hostById };
  }

  /** `tls`: every hop as across a network: API over HTTPS, Redis TLS only with client certificates, agents pinning the CA. */
  /**
   * `sentinel`: servers and agents on redis+sentinel:// (a primary, two replicas, three
   * sentinels on the lab's gateway, as the failover test starts them); not with `tls`.
   */
  static async start(lab: Lab, opts: { graceMs: number; tls?: boolean; sentinel?: boolean }): Promise<ControlPlane> {
    const logDir = path.join(lab.runDir, "control-plane");
    fs.mkdirSync(logDir, { recursive: true });
    const tlsDir = path.join(logDir, "tls");
    const ca = opts.tls ? await loadOrCreateCa(tlsDir) : undefined;
    const group = opts.sentinel ? await startSentinelGroup({ replicas: 2, sentinels: 3, downAfterMs: 1000, bind: lab.gatewayIp }) : undefined;
    const redis = group ? sentinelRedis(group) : await startPrivateRedis([lab.gatewayIp, "127.0.0.1"], ca ? { tls: { ca, dir: tlsDir } } : {});
    const cp = new ControlPlane(lab, redis, logDir, opts.graceMs);
    if (group) cp.sentinel = group;
    if (ca) Object.assign(cp, { ca, tlsDir });
    cp.adminKeyFile = path.join(logDir, "admin-key");
    fs.writeFileSync(cp.adminKeyFile, cp.adminKey, { mode: 0o600 });
    cp.port = await freePort(lab.gatewayIp);
    return cp;
  }

  get url(): string { return `${this.ca ? "https" : "http"}://${this.lab.gatewayIp}:${this.port}`; }

  admin(): ApiClient { return new ApiClient(this.url, this.adminKey, this.ca?.cert); }

  /** Starts a server (id `name`); several may run, on ports of their own (the first one on `port`). */
  async startServer(name = "s1", port = this.port): Promise<string> {
    const out = fs.openSync(path.join(this.logDir, `${name}.log`), "a");
    const proc = spawn(process.execPath, [droverBin, "server",
      "--redis", this.redis.url, "--listen", `${this.lab.gatewayIp}:${port}`, "--admin-key-file", this.adminKeyFile,
      "--key-prefix", this.keyPrefix, "--server-id", name, "--disconnect-grace", `${this.graceMs}ms`,
      // Without tls the lab runs the plain hop on purpose (the default, auto, would serve HTTPS on the gateway).
      ...(this.ca ? ["--api-tls", "on", "--tls-dir", this.tlsDir] : ["--api-tls", "off"])],
    { stdio: ["ignore", out, out] });
    fs.closeSync(out);
    this.servers.set(name, proc);
    const url = `${this.ca ? "https" : "http"}://${this.lab.gatewayIp}:${port}`;
    await waitFor(async () => (await new ApiClient(url, "", this.ca?.cert).call("GET", "/healthz")).status === 200,
      { what: `server ${name} to answer`, timeoutMs: 15_000 });
    return url;
  }

  async stopServer(name: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const proc = this.servers.get(name);
    this.servers.delete(name);
    if (proc) await stopProc(proc, signal);
  }

  async createEnvironment(name: string): Promise<EnvAccess> {
    const env = await this.admin().ok("POST", "/v1/environments", { name });
    return { id: env.id, apiKey: env.apiKey, registrationToken: env.registrationToken, api: new ApiClient(this.url, env.apiKey, this.ca?.cert), base: `/v1/environments/${env.id}` };
  }

  /** Starts the agent inside `host`, registering with `env`'s token. */
  startAgent(host: LabHost, env: EnvAccess, labels: Record<string, string> = {}): ChildProcess {
    const out = fs.openSync(path.join(this.logDir, `agent-${host.index}.log`), "a");
    const labelText = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",");
    const proc = host.spawn([process.execPath, droverBin, "agent", "--url", this.url, "--token", env.registrationToken,
      "--state-dir", path.join(host.dir, "drover-agent"), ...(labelText ? ["--labels", labelText] : []),
      ...(this.ca ? ["--ca-fingerprint", this.ca.fingerprint] : [])],
    { stdio: ["ignore", out, out] });
    fs.closeSync(out);
    this.agents.set(host.name, proc);
    return proc;
  }

  /**
   * Waits until `env` has exactly `count` hosts, all active, and returns host id → lab host
   * (matched by name): the map tests use to act on the machine behind an instance.
   */
  async activeHosts(env: EnvAccess, count: number, timeoutMs = 30_000): Promise<Map<string, LabHost>> {
    const byId = new Map<string, LabHost>();
    await waitFor(async () => {
      const hosts = (await env.api.ok("GET", `${env.base}/hosts`)).data as { id: string; name: string; state: string }[];
      if (hosts.length !== count || !hosts.every((h) => h.state === "active")) return false;
      for (const h of hosts) byId.set(h.id, this.lab.hosts.find((l) => l.name === h.name)!);
      return true;
    }, { what: `${count} active hosts`, timeoutMs });
    return byId;
  }

  async killAgent(host: LabHost): Promise<void> {
    const proc = this.agents.get(host.name);
    this.agents.delete(host.name);
    if (proc) await stopProc(proc, "SIGKILL");
  }

  async stop(): Promise<void> {
    for (const name of [...this.servers.keys()]) await this.stopServer(name, "SIGTERM");
    for (const proc of this.agents.values()) await stopProc(proc, "SIGTERM");
    this.agents.clear();
    await this.redis.stop();
  }
}

/** The Sentinel group as the PrivateRedis the control plane expects: clients follow the primary. */
function sentinelRedis(group: SentinelGroup): PrivateRedis {
  const clients: Redis[] = [];
  return {
    port: group.dataPorts[0],
    url: group.url,
    client() {
      const c = new Redis({ ...redisTargetOptions(parseRedisUrl(group.url, "url"), undefined), maxRetriesPerRequest: 2 });
      c.on("error", () => undefined);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.disconnect();
      await group.stop();
    },
  };
}

async function stopProc(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
