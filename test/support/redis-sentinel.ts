import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import Redis from "ioredis";
import { tmpdir } from "os";
import { join } from "path";
import { freePort } from "./free-port";
import { waitFor } from "./wait";
import { type CertificateAuthority, issueCertificate } from "../../runtime/tls/ca";

/**
 * A Sentinel-watched Redis of the test's own, on loopback: one primary, `replicas` replicas,
 * `sentinels` redis-sentinel processes (quorum = majority) that declare the primary down
 * after `downAfterMs`. No persistence. Stopped by pid.
 */
export interface SentinelGroup {
  name: string;
  /** redis+sentinel://127.0.0.1:p1,127.0.0.1:p2,.../<name> */
  url: string;
  sentinelPorts: number[];
  /** Ports of the data nodes (the first one starts as primary). */
  dataPorts: number[];
  /** The primary's port as the sentinels see it now. */
  primaryPort(): Promise<number>;
  /** SIGKILL of the data node on `port`. */
  kill(port: number): Promise<void>;
  /** An admin client on one data node (direct, no sentinel). */
  node(port: number): Redis;
  stop(): Promise<void>;
}

/**
 * `tls`: every node and sentinel TLS only with client certificates required (as drover runs
 * Redis across a network), replication and the sentinels' own links over TLS too, all
 * certificates from `ca`.
 */
export async function startSentinelGroup(opts: { replicas?: number; sentinels?: number; downAfterMs?: number; tls?: CertificateAuthority; bind?: string } = {}): Promise<SentinelGroup> {
  // `bind`: the one address every node and sentinel listens on and announces (a lab's gateway,
  // so agents inside lab hosts reach them); loopback by default.
  const ip = opts.bind ?? "127.0.0.1";
  const name = "drover-test";
  const dir = fs.mkdtempSync(join(tmpdir(), "drover-sentinel-"));
  // One certificate for every node: server for clients, client for replication and sentinel links.
  let tlsSettings: [string, string][] = [];
  let clientTls: { tls: { ca: string; cert: string; key: string } } | Record<string, never> = {};
  if (opts.tls) {
    const node = issueCertificate(opts.tls, { commonName: ip, names: [ip], usage: ["server", "client"], days: 2 });
    const admin = issueCertificate(opts.tls, { commonName: "test-admin", usage: ["client"], days: 2 });
    fs.writeFileSync(join(dir, "node.pem"), node.cert);
    fs.writeFileSync(join(dir, "node-key.pem"), node.key!, { mode: 0o600 });
    fs.writeFileSync(join(dir, "ca.pem"), opts.tls.cert);
    tlsSettings = [["tls-cert-file", join(dir, "node.pem")], ["tls-key-file", join(dir, "node-key.pem")], ["tls-ca-cert-file", join(dir, "ca.pem")],
      ["tls-auth-clients", "yes"], ["tls-replication", "yes"]];
    clientTls = { tls: { ca: opts.tls.cert, cert: admin.cert, key: admin.key! } };
  }
  const portArgs = (port: number) => (opts.tls ? ["--port", "0", "--tls-port", String(port), ...tlsSettings.flatMap(([k, v]) => [`--${k}`, v])] : ["--port", String(port)]);
  const procs = new Map<number, ChildProcess>();
  const clients: Redis[] = [];
  const start = (argv: string[], port: number, bin = "redis-server") => {
    const proc = spawn(bin, argv, { stdio: ["ignore", "ignore", "ignore"] });
    procs.set(port, proc);
  };
  const ping = (port: number) => waitFor(async () => {
    const probe = new Redis({ host: ip, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...clientTls });
    probe.on("error", () => undefined);
    try { await probe.connect(); return (await probe.ping()) === "PONG"; } catch { return false; } finally { probe.disconnect(); }
  }, { what: `redis on port ${port}`, timeoutMs: 10_000 });
  const dataPorts: number[] = [];
  for (let i = 0; i <= (opts.replicas ?? 1); i++) dataPorts.push(await freePort(ip));
  // --dir: a replica's full sync goes through an RDB file, which must not land in the cwd.
  const common = ["--bind", ip, "--dir", dir, "--save", "", "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning"];
  start([...portArgs(dataPorts[0]), ...common], dataPorts[0]);
  for (const port of dataPorts.slice(1)) start([...portArgs(port), ...common, "--replicaof", ip, String(dataPorts[0])], port);
  for (const port of dataPorts) await ping(port);
  const primary = new Redis({ host: ip, port: dataPorts[0], maxRetriesPerRequest: 1, ...clientTls });
  primary.on("error", () => undefined);
  clients.push(primary);
  // Replicas synced (state=online), so the first WAIT already has them.
  await waitFor(async () => ((await primary.info("replication")).match(/state=online/g) ?? []).length === dataPorts.length - 1,
    { what: "replicas online", timeoutMs: 20_000 });
  const sentinelPorts: number[] = [];
  const count = opts.sentinels ?? 3;
  for (let i = 0; i < count; i++) {
    const port = await freePort(ip);
    sentinelPorts.push(port);
    const conf = join(dir, `sentinel-${port}.conf`);
    fs.writeFileSync(conf, [
      ...(opts.tls ? ["port 0", `tls-port ${port}`, ...tlsSettings.map(([k, v]) => `${k} ${v}`)] : [`port ${port}`]),
      `bind ${ip}`, "protected-mode no", `dir ${dir}`,
      `sentinel monitor ${name} ${ip} ${dataPorts[0]} ${Math.floor(count / 2) + 1}`,
      `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
      `sentinel failover-timeout ${name} 10000`,
      `sentinel parallel-syncs ${name} 1`,
    ].join("\n") + "\n");
    start([conf, "--loglevel", "warning"], port, "redis-sentinel");
  }
  for (const port of sentinelPorts) await ping(port);
  const sentinel = new Redis({ host: ip, port: sentinelPorts[0], maxRetriesPerRequest: 1, ...clientTls });
  sentinel.on("error", () => undefined);
  clients.push(sentinel);
  // Ready once every sentinel knows the replicas and each other (else a failover cannot be agreed).
  await waitFor(async () => {
    const master = (await sentinel.call("SENTINEL", "MASTER", name)) as string[];
    const field = (k: string) => Number(master[master.indexOf(k) + 1]);
    return field("num-slaves") === dataPorts.length - 1 && field("num-other-sentinels") === count - 1;
  }, { what: "sentinels see the replicas and each other", timeoutMs: 20_000 });
  return {
    name,
    url: `${opts.tls ? "rediss" : "redis"}+sentinel://${sentinelPorts.map((p) => `${ip}:${p}`).join(",")}/${name}`,
    sentinelPorts,
    dataPorts,
    async primaryPort() {
      const [, port] = (await sentinel.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)) as [string, string];
      return Number(port);
    },
    async kill(port) {
      const proc = procs.get(port);
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGKILL");
      await exited;
    },
    node(port) {
      const c = new Redis({ host: ip, port, maxRetriesPerRequest: 1, ...clientTls });
      c.on("error", () => undefined);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.disconnect();
      for (const proc of procs.values()) {
        if (proc.exitCode !== null || proc.signalCode !== null) continue;
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGKILL");
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
