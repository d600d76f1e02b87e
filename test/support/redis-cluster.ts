import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import Redis, { Cluster } from "ioredis";
import { tmpdir } from "os";
import { join } from "path";
import { promisify } from "util";
import { freePort } from "./free-port";
import { waitFor } from "./wait";
import { type CertificateAuthority, issueCertificate } from "../../runtime/tls/ca";

/**
 * A Redis Cluster of the test's own on loopback: `primaries` primaries with
 * `replicasPerPrimary` replicas each, `redis-server --cluster-enabled yes` in a temp dir,
 * joined by `redis-cli --cluster create --cluster-replicas n --cluster-yes`. No persistence.
 * As the suite's single Redis (scripts/setup.sh), the default user is the admin: no
 * credentials. Stopped by pid.
 *
 * `tls`: every node TLS only (`--port 0 --tls-port`), client certificates required, the
 * cluster bus and replication over TLS too (`--tls-cluster yes --tls-replication yes`), all
 * certificates from `tls`; the url is then rediss+cluster://. `hostname` (e.g. localhost): the
 * nodes announce it, the url and the node certificate name it instead of 127.0.0.1.
 */
export interface RedisClusterHandle {
  /** redis+cluster://127.0.0.1:p1,127.0.0.1:p2,... (every node, so any of them seeds a client). */
  url: string;
  /** Admin credentials for the url (none: the default user, as the single-Redis helper). */
  username?: string;
  password?: string;
  /** Every node's port, primaries first as created. */
  nodes: number[];
  /** An admin Cluster client (closed by stop()). */
  client(): Cluster;
  /** An admin client on one node (closed by stop()). */
  node(port: number): Redis;
  /** The port of the primary serving `slot` now. */
  primaryOf(slot: number): Promise<number>;
  /** The ports of the replicas of the primary on `port`. */
  replicasOf(port: number): Promise<number[]>;
  /** The ports of the nodes that are primaries now (killed ones left out). */
  primaries(): Promise<number[]>;
  /**
   * Moves `slot` and its keys from the primary serving it to the primary on `target`, as
   * `redis-cli --cluster reshard --cluster-pipeline <batch>` does: IMPORTING/MIGRATING, MIGRATE
   * in batches back to back, then SETSLOT NODE on every primary. Returns the keys moved.
   */
  moveSlot(slot: number, target: number, batch?: number): Promise<number>;
  /** SIGKILL of the node on `port`. */
  kill(port: number): Promise<void>;
  /** Runs redis-cli with the given arguments (e.g. `--cluster reshard ...`). */
  cli(args: string[]): Promise<string>;
  stop(): Promise<void>;
  /** TLS options of an admin client (the CA and an admin client certificate), when `tls`. */
  clientTls?: { ca: string; cert: string; key: string };
}

const run = promisify(execFile);

export async function startRedisCluster(opts: { primaries?: number; replicasPerPrimary?: number; nodeTimeoutMs?: number; tls?: CertificateAuthority; hostname?: string } = {}): Promise<RedisClusterHandle> {
  const primaries = opts.primaries ?? 3;
  const replicas = opts.replicasPerPrimary ?? 1;
  const count = primaries * (replicas + 1);
  const dir = fs.mkdtempSync(join(tmpdir(), "drover-cluster-"));
  // One certificate for every node: server for clients, client for the bus and replication links.
  let tlsArgs: string[] = [];
  let clientTls: RedisClusterHandle["clientTls"];
  let cliTls: string[] = [];
  if (opts.tls) {
    // With `hostname`, the certificate names only it (no address): clients must check the name.
    const name = opts.hostname ?? "127.0.0.1";
    const node = issueCertificate(opts.tls, { commonName: name, names: [name], usage: ["server", "client"], days: 2 });
    const admin = issueCertificate(opts.tls, { commonName: "test-admin", usage: ["client"], days: 2 });
    const file = (name: string, text: string) => { fs.writeFileSync(join(dir, name), text, { mode: 0o600 }); return join(dir, name); };
    const [cert, key, ca] = [file("node.pem", node.cert), file("node-key.pem", node.key!), file("ca.pem", opts.tls.cert)];
    tlsArgs = ["--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", ca, "--tls-auth-clients", "yes", "--tls-cluster", "yes", "--tls-replication", "yes"];
    clientTls = { ca: opts.tls.cert, cert: admin.cert, key: admin.key! };
    cliTls = ["--tls", "--cacert", ca, "--cert", file("admin.pem", admin.cert), "--key", file("admin-key.pem", admin.key!)];
  }
  const tlsOption = clientTls ? { tls: clientTls } : {};
  const procs = new Map<number, ChildProcess>();
  const clients: Array<Redis | Cluster> = [];
  const ports: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const busPort = await freePort();
      ports.push(port);
      const nodeDir = join(dir, String(port));
      fs.mkdirSync(nodeDir);
      const proc = spawn("redis-server", [
        ...(opts.tls ? ["--port", "0", "--tls-port", String(port), ...tlsArgs] : ["--port", String(port)]), "--cluster-port", String(busPort), "--bind", "127.0.0.1", "--dir", nodeDir,
        "--cluster-enabled", "yes", "--cluster-config-file", join(nodeDir, "nodes.conf"),
        // `hostname`: nodes announce it (CLUSTER SLOTS answers names), as a deployment whose certificates name hosts.
        ...(opts.hostname ? ["--cluster-announce-hostname", opts.hostname, "--cluster-preferred-endpoint-type", "hostname"] : []),
        // Short, so a killed primary is replaced within a couple of seconds.
        "--cluster-node-timeout", String(opts.nodeTimeoutMs ?? 1000),
        "--save", "", "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning",
      ], { stdio: ["ignore", "ignore", "ignore"] });
      procs.set(port, proc);
    }
    const ping = (port: number) => waitFor(async () => {
      const probe = new Redis({ host: opts.hostname ?? "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...tlsOption });
      probe.on("error", () => undefined);
      try { await probe.connect(); return (await probe.ping()) === "PONG"; } catch { return false; } finally { probe.disconnect(); }
    }, { what: `redis cluster node on port ${port}`, timeoutMs: 10_000 });
    for (const port of ports) await ping(port);
    await run("redis-cli", [...cliTls, "--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", String(replicas), "--cluster-yes"], { timeout: 30_000 });
    const direct = (port: number) => {
      const c = new Redis({ host: opts.hostname ?? "127.0.0.1", port, maxRetriesPerRequest: 1, ...tlsOption });
      c.on("error", () => undefined);
      clients.push(c);
      return c;
    };
    const admins = new Map(ports.map((p) => [p, direct(p)]));
    // Every node agrees the cluster is whole, and every replica has synced (so a failover has a candidate).
    await waitFor(async () => {
      for (const c of admins.values()) if (!/cluster_state:ok/.test(String(await c.call("CLUSTER", "INFO")))) return false;
      const roles = await Promise.all([...admins.values()].map((c) => c.call("ROLE") as Promise<unknown[]>));
      return roles.filter((r) => r[0] === "slave" && r[3] === "connected").length === primaries * replicas;
    }, { what: "redis cluster state ok, replicas synced", timeoutMs: 30_000 });
    const handle: RedisClusterHandle = {
      url: `${opts.tls ? "rediss" : "redis"}+cluster://${ports.map((p) => `${opts.hostname ?? "127.0.0.1"}:${p}`).join(",")}`,
      nodes: ports,
      clientTls,
      client() {
        // Names kept as given (ioredis would resolve them, and TLS would check the address).
        const c = new Cluster(ports.map((port) => ({ host: opts.hostname ?? "127.0.0.1", port })), { retryDelayOnFailover: 100, retryDelayOnClusterDown: 100, redisOptions: tlsOption, dnsLookup: (a, cb) => cb(null, a) });
        c.on("error", () => undefined);
        clients.push(c);
        return c;
      },
      node: (port) => admins.get(port) ?? direct(port),
      async primaryOf(slot) {
        for (const [port, c] of admins) {
          if (procs.get(port)?.exitCode !== null || procs.get(port)?.signalCode !== null) continue;
          const slots = (await c.call("CLUSTER", "SLOTS")) as Array<[number, number, [string, number]]>;
          const hit = slots.find(([from, to]) => slot >= from && slot <= to);
          if (hit) return Number(hit[2][1]);
        }
        throw new Error(`no node serves slot ${slot}`);
      },
      async replicasOf(port) {
        const role = (await admins.get(port)!.call("ROLE")) as [string, number, [string, string, string][]];
        return role[0] === "master" ? role[2].map(([, p]) => Number(p)) : [];
      },
      async primaries() {
        const out: number[] = [];
        for (const [port, c] of admins) {
          if (procs.get(port)?.exitCode !== null || procs.get(port)?.signalCode !== null) continue;
          if (((await c.call("ROLE")) as unknown[])[0] === "master") out.push(port);
        }
        return out;
      },
      async moveSlot(slot, target, batch = 3) {
        const source = await handle.primaryOf(slot);
        const id = async (port: number) => String(await admins.get(port)!.call("CLUSTER", "MYID"));
        const [sourceId, targetId] = [await id(source), await id(target)];
        await admins.get(target)!.call("CLUSTER", "SETSLOT", slot, "IMPORTING", sourceId);
        await admins.get(source)!.call("CLUSTER", "SETSLOT", slot, "MIGRATING", targetId);
        let moved = 0;
        for (;;) {
          const keys = (await admins.get(source)!.call("CLUSTER", "GETKEYSINSLOT", slot, batch)) as string[];
          if (keys.length === 0) break;
          await admins.get(source)!.call("MIGRATE", "127.0.0.1", target, "", 0, 5000, "KEYS", ...keys);
          moved += keys.length;
        }
        for (const port of await handle.primaries()) await admins.get(port)!.call("CLUSTER", "SETSLOT", slot, "NODE", targetId);
        return moved;
      },
      async kill(port) {
        const proc = procs.get(port);
        if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGKILL");
        await exited;
      },
      async cli(args) {
        return (await run("redis-cli", [...cliTls, ...args], { timeout: 60_000 })).stdout;
      },
      stop: () => stopAll(procs, clients, dir),
    };
    return handle;
  } catch (err) {
    await stopAll(procs, clients, dir);
    throw err;
  }
}

async function stopAll(procs: Map<number, ChildProcess>, clients: Array<Redis | Cluster>, dir: string): Promise<void> {
  for (const c of clients) c.disconnect();
  for (const proc of procs.values()) {
    if (proc.exitCode !== null || proc.signalCode !== null) continue;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGKILL");
    await exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
