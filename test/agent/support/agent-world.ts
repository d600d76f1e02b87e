import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Redis from "ioredis";
import type { HostDesiredState, HostObservedState } from "../../../runtime/protocol/model";
import { HostKeys, makeKeys } from "../../../runtime/protocol/keys";
import { waitFor } from "../../support/wait";
import { AgentProcess } from "./agent-process";
import { dockerClient, removeTestContainers } from "./docker-fixture";
import { FakeRegistrationOptions, FakeRegistrationServer } from "./fake-registration";

interface Teardownable {
  teardown(fn: () => unknown): void;
}

/**
 * Everything one agent test needs, all its own: key prefix, env id, container name prefix,
 * state dir, a fake registration server, and the cleanup of all of it (t.teardown).
 */
export class AgentWorld {
  readonly suffix = randomBytes(4).toString("hex");
  /** Container names of this test start with it. */
  readonly prefix = `dra${this.suffix}-`;
  readonly keyPrefix = `drover-agent-test-${this.suffix}`;
  readonly envId = `e${this.suffix}`;
  readonly token = `tok-${randomBytes(8).toString("hex")}`;
  readonly stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-agent-state-"));
  readonly docker = dockerClient();
  readonly admin: Redis;
  readonly server: FakeRegistrationServer;
  readonly agents: AgentProcess[] = [];
  /** Extra cleanup a test adds (images tagged, ...), run first. */
  readonly extraCleanup: (() => Promise<unknown>)[] = [];

  constructor(readonly redisUrl = "redis://127.0.0.1:6379", serverOptions: Partial<FakeRegistrationOptions> = {}) {
    this.admin = new Redis(redisUrl, { maxRetriesPerRequest: 2, retryStrategy: (n) => Math.min(n * 100, 1_000) });
    this.admin.on("error", () => { /* the test's own commands report failures */ });
    this.server = new FakeRegistrationServer({
      admin: this.admin, redisUrl, keyPrefix: this.keyPrefix, envId: this.envId, token: this.token, ...serverOptions,
    });
  }

  static async create(t: Teardownable, redisUrl?: string, serverOptions: Partial<FakeRegistrationOptions> = {}, listen = true): Promise<AgentWorld> {
    const world = new AgentWorld(redisUrl, serverOptions);
    t.teardown(() => world.cleanup());
    if (listen) await world.server.start();
    return world;
  }

  keys(hostId: string): HostKeys {
    return makeKeys(this.keyPrefix).host(this.envId, hostId);
  }

  /** The host id of the (single) registered machine. */
  get hostId(): string {
    const r = this.server.responses.at(-1);
    if (!r) throw new Error("no agent has registered yet");
    return r.hostId;
  }

  startAgent(extra: string[] = [], url = this.server.url): AgentProcess {
    const agent = new AgentProcess(["--url", url, "--token", this.token, "--state-dir", this.stateDir,
      "--hostname", `host-${this.suffix}`, ...extra]);
    this.agents.push(agent);
    return agent;
  }

  async waitRegistered(agent: AgentProcess, count = 1): Promise<string> {
    await waitFor(() => {
      if (!agent.running) throw new Error(`agent exited:\n${agent.tail()}`);
      return this.server.responses.length >= count;
    }, { what: `registration #${count}`, timeoutMs: 20_000 });
    return this.hostId;
  }

  /** SET desired, then (unless told not to) XADD a `desired` nudge, as the server does. */
  async writeDesired(doc: HostDesiredState, nudge = true): Promise<void> {
    const keys = this.keys(doc.hostId);
    await this.admin.set(keys.desired, JSON.stringify(doc));
    if (nudge) await this.admin.xadd(keys.nudges, "*", "type", "desired", "generation", String(doc.generation));
  }

  async observed(hostId = this.hostId): Promise<HostObservedState | undefined> {
    const text = await this.admin.get(this.keys(hostId).observed);
    return text ? (JSON.parse(text) as HostObservedState) : undefined;
  }

  /** Waits for an observed document of at least `generation` that satisfies `ok`. */
  waitObserved(generation: number, ok: (o: HostObservedState) => boolean = () => true, timeoutMs = 30_000): Promise<HostObservedState> {
    return waitFor(async () => {
      const o = await this.observed();
      return o && o.appliedGeneration >= generation && ok(o) ? o : undefined;
    }, { what: `observed state of generation ${generation}`, timeoutMs });
  }

  /** Entries of the host's reports stream as field maps. */
  async reports(hostId = this.hostId): Promise<{ id: string; fields: Record<string, string> }[]> {
    const entries = await this.admin.xrange(this.keys(hostId).reports, "-", "+");
    return entries.map(([id, flat]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
      return { id, fields };
    });
  }

  identityFile(): string {
    return path.join(this.stateDir, "identity.json");
  }

  async cleanup(): Promise<void> {
    for (const agent of this.agents) await agent.kill("SIGKILL");
    // DROVER_TEST_AGENT_LOG=1 prints every agent's output, for debugging a failing run.
    if (process.env.DROVER_TEST_AGENT_LOG) for (const agent of this.agents) process.stderr.write(`--- agent ${agent.pid}\n${agent.raw.join("\n")}\n`);
    for (const fn of this.extraCleanup) await fn().catch(() => undefined);
    await removeTestContainers(this.docker, this.prefix, this.server.responses.map((r) => r.hostId));
    await this.server.close();
    const keys: string[] = [];
    if (this.admin.status === "ready" || this.admin.status === "connecting" || this.admin.status === "connect") {
      try {
        let cursor = "0";
        do {
          const [next, found] = await this.admin.scan(cursor, "MATCH", `${this.keyPrefix}:*`, "COUNT", 500);
          cursor = next;
          keys.push(...found);
        } while (cursor !== "0");
        if (keys.length) await this.admin.del(...keys);
      } catch {
        // a test's private Redis may already be gone
      }
    }
    this.admin.disconnect();
    fs.rmSync(this.stateDir, { recursive: true, force: true });
  }
}
