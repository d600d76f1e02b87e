/**
 * The server's half of a stream's rendezvous: a client's websocket waits here, under a fresh
 * session id, while the host's agent is told through its Redis nudges stream to dial in for
 * it. The agent's websocket then takes the session (once), gets the request as its first
 * frame, and the two are relayed. Sessions live in this server's memory only, so the nudge
 * names this server's own URL (`server`): with several servers behind one address the agent
 * dials the one holding the session, not the one it registered with (docs/day-two.md).
 */
import { randomBytes } from "crypto";
import type Redis from "ioredis";
import type WebSocket from "ws";
import type { Keys } from "../protocol/keys";
import type { StreamControl, StreamRequest } from "../protocol/stream-protocol";
import { relay } from "./relay";
import type { StreamGrant } from "./stream-tokens";

export const AGENT_DIAL_TIMEOUT_MS = 10_000;
const EARLY_LIMIT_BYTES = 1024 * 1024;

interface Pending {
  grant: StreamGrant;
  client: WebSocket;
  timer: NodeJS.Timeout;
  /** What the client sent before the agent came (stdin typed or piped at once, its end), in order. */
  early: Array<[Buffer, boolean]>;
  keep: (data: Buffer, isBinary: boolean) => void;
}

export class StreamSessions {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly log: (message: string, err?: unknown) => void,
    private readonly dialTimeoutMs = AGENT_DIAL_TIMEOUT_MS,
    /** This server's own URL as agents reach it; unknown (listening on every address): agents dial their registered URL. */
    private readonly selfUrl: () => string | undefined = () => undefined,
  ) {}

  /** Parks the client's socket and nudges the agent of the instance's host. */
  async open(grant: StreamGrant, client: WebSocket): Promise<void> {
    const sessionId = randomBytes(16).toString("hex");
    const timer = setTimeout(() => {
      if (!this.pending.delete(sessionId)) return;
      fail(client, { type: "error", code: "Unavailable", message: `the agent of host ${grant.hostId} did not dial in within ${this.dialTimeoutMs / 1000} s: check that it runs (drover hosts)` });
    }, this.dialTimeoutMs);
    const early: Array<[Buffer, boolean]> = [];
    let earlyBytes = 0;
    const keep = (data: Buffer, isBinary: boolean) => {
      early.push([data, isBinary]);
      // Beyond this the client is not read until the agent is here (TCP holds the rest).
      if ((earlyBytes += data.length) > EARLY_LIMIT_BYTES) client.pause();
    };
    client.on("message", keep);
    this.pending.set(sessionId, { grant, client, timer, early, keep });
    client.once("close", () => {
      const p = this.pending.get(sessionId);
      if (p?.client === client) {
        clearTimeout(p.timer);
        this.pending.delete(sessionId);
      }
    });
    try {
      const server = this.selfUrl();
      await this.redis.xadd(this.keys.host(grant.envId, grant.hostId).nudges, "MAXLEN", "~", "100", "*", "type", "stream", "session", sessionId, "instance", grant.instanceId,
        ...(server ? ["server", server] : []));
    } catch (err) {
      this.log("streams: nudging the agent failed", err);
      clearTimeout(timer);
      this.pending.delete(sessionId);
      fail(client, { type: "error", code: "Unavailable", message: "the server cannot reach Redis to call the agent; try again" });
    }
  }

  /** The session an agent dials in for, if it waits (taken: a second dial-in finds nothing). */
  peek(sessionId: string): StreamGrant | undefined {
    return this.pending.get(sessionId)?.grant;
  }

  /** Joins the agent's socket to the waiting client: sends the request, then relays. */
  join(sessionId: string, agent: WebSocket): boolean {
    const p = this.pending.get(sessionId);
    if (!p) return false;
    this.pending.delete(sessionId);
    clearTimeout(p.timer);
    if (p.client.readyState !== p.client.OPEN) {
      agent.close(1000, "client gone");
      return true;
    }
    const { grant } = p;
    const request = { action: grant.action, envId: grant.envId, instanceId: grant.instanceId, params: grant.params } as StreamRequest;
    agent.send(JSON.stringify(request));
    p.client.off("message", p.keep);
    for (const [data, isBinary] of p.early) agent.send(data, { binary: isBinary });
    relay(p.client, agent);
    if (p.client.isPaused) p.client.resume();
    return true;
  }

  close(): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.client.terminate();
      this.pending.delete(id);
    }
  }
}

function fail(client: WebSocket, message: StreamControl): void {
  if (client.readyState !== client.OPEN) return;
  client.send(JSON.stringify(message));
  client.close(1011, message.type === "error" ? message.code : "error");
}
