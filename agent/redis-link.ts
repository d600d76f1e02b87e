import Redis, { RedisOptions } from "ioredis";
import type { AgentRedisCredentials } from "../runtime/protocol/agent-protocol";
import { agentRedisOptions } from "../runtime/protocol/agent-redis-options";
import { errorMessage, Logger } from "./log";
import { createRedisClientForUrl } from "../runtime/protocol/redis-client";

/**
 * The agent's two Redis connections, both as the host's own ACL user: `cmd` for GET/SET/XADD
 * and `blocking` for XREAD BLOCK (a blocked connection cannot serve anything else).
 *
 * Commands fail at once while disconnected (no offline queue): the agent then works from the
 * last desired state it saw instead of waiting, and ioredis reconnects in the background.
 */
export type RedisCredentials = AgentRedisCredentials;

/** A log-friendly reason for a failed command ("not connected" instead of ioredis' offline-queue wording). */
export function redisReason(err: unknown): string {
  const msg = errorMessage(err);
  return /enableOfflineQueue|Connection is closed/.test(msg) ? "redis not connected" : msg;
}

/** Redis refused the credentials themselves (the user was removed, reset or confined elsewhere). */
export function isAuthError(err: unknown): boolean {
  return /^(WRONGPASS|NOPERM|NOAUTH)\b/.test(errorMessage(err));
}

/** See runtime/protocol/agent-redis-options.ts: one definition for the agent and its tests. */
export function redisOptions(creds: RedisCredentials, connectionName: string): RedisOptions {
  return agentRedisOptions(creds, connectionName);
}

export type ProbeResult = { ok: true } | { ok: false; rejected: boolean; reason: string };

/**
 * One-shot check of saved credentials: AUTH, then GET of the host's own desired key (so a
 * user whose key pattern no longer covers this host counts as rejected too).
 */
export async function probeCredentials(creds: RedisCredentials, desiredKey: string): Promise<ProbeResult> {
  const client = createRedisClientForUrl(creds.url, "redis.url", {
    ...redisOptions(creds, "drover-agent-probe"),
    enableOfflineQueue: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  client.on("error", () => { /* reported through the command's rejection */ });
  try {
    await client.get(desiredKey);
    return { ok: true };
  } catch (err) {
    return { ok: false, rejected: isAuthError(err), reason: errorMessage(err) };
  } finally {
    client.disconnect();
  }
}

/** Upper bound of the nudge reader's XREAD BLOCK, plus slack for a slow reply. */
export const nudgeBlockMs = 5_000;
const blockingCommandTimeoutMs = nudgeBlockMs + 10_000;
/** How long a closing command connection may take to flush before it is destroyed. */
const cmdDisconnectMs = 100;

export class RedisLink {
  readonly cmd: Redis;
  readonly blocking: Redis;
  private readonly readyListeners: (() => void)[] = [];
  private readonly rejectedListeners: ((reason: string) => void)[] = [];
  private wasReady = false;
  private connectedOnce = false;
  private closed = false;

  constructor(creds: RedisCredentials, hostId: string, private readonly log: Logger) {
    // A graceful stop must not wait on ioredis's 2 s disconnect timer: that timer keeps the
    // process alive after everything else stopped (a blocked XREAD is not closed by Redis on our
    // FIN). The command connection gets a moment to flush its last writes; the blocking one has
    // nothing to flush and is destroyed at once.
    // redis+cluster://: a Cluster client (runtime/protocol/redis-client.ts), which the same calls drive.
    this.cmd = createRedisClientForUrl(creds.url, "redis.url", { ...redisOptions(creds, `drover-agent-${hostId}`), disconnectTimeout: cmdDisconnectMs });
    // XREAD BLOCK waits up to blockMs by design; its timeout only catches a dead connection.
    this.blocking = createRedisClientForUrl(creds.url, "redis.url", { ...redisOptions(creds, `drover-agent-${hostId}-nudges`), commandTimeout: blockingCommandTimeoutMs, disconnectTimeout: 0 });
    this.blocking.on("error", (err) => this.onError(err, false));
    this.cmd.on("error", (err) => this.onError(err, true));
    this.cmd.on("ready", () => {
      if (this.closed) return;
      this.log.info("redis connected", { url: creds.url, user: creds.username });
      this.wasReady = true;
      this.connectedOnce = true;
      for (const listener of this.readyListeners) listener();
    });
    this.cmd.on("close", () => {
      if (this.closed || !this.wasReady) return;
      this.wasReady = false;
      this.log.warn("redis connection lost: containers keep running, working from the last desired state", { url: creds.url });
    });
  }

  connect(): void {
    this.cmd.connect().catch(() => { /* retried by retryStrategy; errors arrive as events */ });
    this.blocking.connect().catch(() => { /* as above */ });
  }

  isReady(): boolean {
    return this.cmd.status === "ready";
  }

  /** Whether the command connection has been ready at least once in this session. */
  get everReady(): boolean {
    return this.connectedOnce;
  }

  /** Called on every (re)connection of the command connection. */
  onReady(listener: () => void): void {
    this.readyListeners.push(listener);
  }

  /** Called when Redis refuses the credentials (WRONGPASS / NOPERM): the identity is no longer valid. */
  onRejected(listener: (reason: string) => void): void {
    this.rejectedListeners.push(listener);
  }

  /** Lets command callers hand in their errors, so a NOPERM on a command also counts as rejection. */
  noteError(err: unknown): void {
    if (isAuthError(err)) for (const listener of this.rejectedListeners) listener(errorMessage(err));
  }

  close(): void {
    this.closed = true;
    this.cmd.disconnect();
    this.blocking.disconnect();
  }

  private onError(err: Error, main: boolean): void {
    if (this.closed) return;
    if (isAuthError(err)) {
      this.log.error("redis refused the host's credentials", { reason: err.message });
      this.noteError(err);
      return;
    }
    if (main) this.log.debug("redis error", { reason: err.message });
  }
}

/** Resolves when `client` is ready or after `ms`, whichever comes first. */
export function whenReady(client: Redis, ms: number, signal?: AbortSignal): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.removeListener("ready", done);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    client.once("ready", done);
    signal?.addEventListener("abort", done, { once: true });
  });
}
