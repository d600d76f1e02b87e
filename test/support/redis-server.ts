import { ChildProcess, spawn } from "child_process";
import Redis from "ioredis";
import { freePort } from "./free-port";
import { waitFor } from "./wait";

export interface PrivateRedis {
  port: number;
  /** redis://<first bind address>:<port> */
  url: string;
  client(): Redis;
  stop(): Promise<void>;
}

/**
 * A redis-server of the test's own (no persistence), bound to the given addresses, e.g. the
 * lab's gateway so agents in lab hosts reach it. Stopped by its pid.
 */
export async function startPrivateRedis(bind: string[] = ["127.0.0.1"]): Promise<PrivateRedis> {
  const port = await freePort(bind[0]);
  const proc: ChildProcess = spawn("redis-server",
    ["--port", String(port), "--bind", bind.join(" "), "--save", "", "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning"],
    { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr!.on("data", (d) => (stderr += d));
  const url = `redis://${bind[0]}:${port}`;
  const clients: Redis[] = [];
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error(`redis-server exited ${proc.exitCode}: ${stderr}`);
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined); // the first tries are refused until redis-server listens
    try { await probe.connect(); return (await probe.ping()) === "PONG"; } finally { probe.disconnect(); }
  }, { what: `redis-server on ${url}`, timeoutMs: 10_000 });
  return {
    port,
    url,
    client() {
      const c = new Redis(url, { maxRetriesPerRequest: 2 });
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
