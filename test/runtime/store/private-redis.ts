import { spawn } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import Redis from "ioredis";
import { pollUntil } from "./store-fixture";

export interface PrivateRedis {
  /** Unix socket path (no TCP port: nothing to race for, nothing reachable from outside). */
  socket: string;
  client(): Redis;
  stop(): Promise<void>;
}

/**
 * A redis-server of this test's own, for tests whose failure could damage the server (the
 * ACL test sends FLUSHALL and SHUTDOWN as an agent user: if a refusal ever broke, only this
 * server would suffer, not the shared one other test files use). Stopped by its pid.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), "drover-store-redis-"));
  const socket = join(dir, "redis.sock");
  const proc = spawn("redis-server", ["--port", "0", "--unixsocket", socket, "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: ["ignore", "ignore", "inherit"] });
  const clients: Redis[] = [];
  const client = () => {
    const c = new Redis({ path: socket, maxRetriesPerRequest: 1 });
    clients.push(c);
    return c;
  };
  await pollUntil("private redis-server to answer", async () => {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
    const probe = new Redis({ path: socket, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === "PONG";
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }, 10_000);
  return {
    socket,
    client,
    async stop() {
      for (const c of clients) c.disconnect();
      if (proc.exitCode === null) {
        const exited = new Promise((resolve) => proc.once("exit", resolve));
        proc.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
