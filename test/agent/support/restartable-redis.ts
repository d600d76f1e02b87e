import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Redis from "ioredis";
import { freePort } from "../../support/free-port";
import { waitFor } from "../../support/wait";

/**
 * A redis-server of the test's own that can be killed and started again on the same port
 * with its data and ACL users (append-only file + ACL file), like a production Redis restart.
 */
export class RestartableRedis {
  private proc?: ChildProcess;
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-agent-redis-"));
  port = 0;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const aclFile = path.join(this.dir, "users.acl");
    if (!fs.existsSync(aclFile)) fs.writeFileSync(aclFile, "");
    const proc = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "",
      "--appendonly", "yes", "--appendfsync", "always", "--dir", this.dir, "--aclfile", aclFile,
      "--protected-mode", "no", "--loglevel", "warning"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr!.on("data", (d) => (stderr += d));
    this.proc = proc;
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`redis-server exited ${proc.exitCode}: ${stderr}`);
      const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on("error", () => undefined);
      try { await probe.connect(); return (await probe.ping()) === "PONG"; } finally { probe.disconnect(); }
    }, { what: `redis-server on ${this.url}`, timeoutMs: 10_000 });
  }

  /** SIGKILL, by its own pid: an abrupt outage. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGKILL");
    await exited;
  }

  async remove(): Promise<void> {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
