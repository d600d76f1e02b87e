import { ChildProcess, spawn } from "child_process";
import Redis from "ioredis";
import { freePort } from "./free-port";
import { waitFor } from "./wait";
import { type CertificateAuthority, issueCertificate } from "../../runtime/tls/ca";
import { redisTlsArgs, writeRedisCertificate } from "../../runtime/tls/redis-tls";

export interface PrivateRedis {
  port: number;
  /** redis://<first bind address>:<port>, or rediss:// with TLS. */
  url: string;
  /** With TLS: ioredis `tls` options of an admin client (the CA, a client certificate from it). */
  tls?: { ca: string; cert: string; key: string };
  client(): Redis;
  stop(): Promise<void>;
}

/**
 * A redis-server of the test's own (no persistence), bound to the given addresses, e.g. the
 * lab's gateway so agents in lab hosts reach it. Stopped by its pid.
 *
 * `tls`: TLS only (no plaintext port), a certificate from `ca` for the bind addresses, client
 * certificates required (mutual TLS), as drover runs it across a network.
 */
export async function startPrivateRedis(bind: string[] = ["127.0.0.1"], opts: { tls?: { ca: CertificateAuthority; dir: string } } = {}): Promise<PrivateRedis> {
  const port = await freePort(bind[0]);
  let tlsArgs: string[] = [];
  let tls: PrivateRedis["tls"];
  if (opts.tls) {
    const files = writeRedisCertificate(opts.tls.ca, bind, opts.tls.dir);
    tlsArgs = redisTlsArgs(files, port);
    const admin = issueCertificate(opts.tls.ca, { commonName: "test-admin", usage: ["client"], days: 2 });
    tls = { ca: opts.tls.ca.cert, cert: admin.cert, key: admin.key! };
  }
  const proc: ChildProcess = spawn("redis-server",
    [...(opts.tls ? tlsArgs : ["--port", String(port)]), "--bind", bind.join(" "), "--save", "", "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning"],
    { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr!.on("data", (d) => (stderr += d));
  const url = `${opts.tls ? "rediss" : "redis"}://${bind[0]}:${port}`;
  const clients: Redis[] = [];
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error(`redis-server exited ${proc.exitCode}: ${stderr}`);
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...(tls ? { tls } : {}) });
    probe.on("error", () => undefined); // the first tries are refused until redis-server listens
    try { await probe.connect(); return (await probe.ping()) === "PONG"; } finally { probe.disconnect(); }
  }, { what: `redis-server on ${url}`, timeoutMs: 10_000 });
  return {
    port,
    url,
    ...(tls ? { tls } : {}),
    client() {
      const c = new Redis(url, { maxRetriesPerRequest: 2, ...(tls ? { tls } : {}) });
      // After stop() (or a lab teardown) reconnect attempts fail; they are not test failures.
      c.on("error", () => undefined);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.disconnect();
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGKILL");
      await exited;
    },
  };
}
