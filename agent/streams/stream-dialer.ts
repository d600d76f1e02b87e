/**
 * The agent's half of logs and exec streams. A `stream` nudge on the host's Redis stream
 * names a session waiting on the server; the agent dials out to it (no inbound port on the
 * host) over a websocket on the server URL it registered with, trusting only the pinned CA
 * for https, and signs the dial-in with the host's identity key. The server's first frame
 * says what to stream (runtime/protocol/stream-protocol.ts).
 */
import type { KeyObject } from "crypto";
import type Docker from "dockerode";
import WebSocket from "ws";
import { isDroverError } from "../../runtime/protocol/errors";
import { AGENT_HEADERS, AGENT_STREAM_PREFIX, signAgentDial, type StreamRequest } from "../../runtime/protocol/stream-protocol";
import { errorMessage, type Logger } from "../log";
import { runExec } from "./exec-session";
import { findInstanceContainer, type StreamContainer } from "../docker/stream-docker";
import { runLogs } from "./logs-session";

/** Messages a session's handler has not taken yet, in order; `runExec` replays them. */
export type EarlyMessages = Array<[Buffer, boolean]>;

export interface StreamDialerOptions {
  url: string;
  /** PEM of the pinned server CA (https with drover's CA). */
  ca?: string;
  envId: string;
  hostId: string;
  privateKey: KeyObject;
  docker: Docker;
  log: Logger;
}

export class StreamDialer {
  private readonly open = new Set<WebSocket>();

  constructor(private readonly o: StreamDialerOptions) {}

  /**
   * `instanceId` (from the nudge): its container is looked up while the websocket connects.
   * `server`: the URL of the server holding the session (several servers), else the registered one.
   */
  dial(sessionId: string, instanceId?: string, server?: string): void {
    if (!/^[0-9a-f]{32}$/.test(sessionId)) {
      this.o.log.warn("stream nudge with a malformed session id; ignored", { session: sessionId });
      return;
    }
    const base = sessionServer(this.o.url, server);
    if (base === undefined) {
      this.o.log.warn("stream nudge names a server URL this agent will not dial (not http(s), or plain http while registered over https); ignored", { session: sessionId, server });
      return;
    }
    const { envId, hostId } = this.o;
    const started = performance.now();
    const lookup = instanceId ? findInstanceContainer(this.o.docker, envId, instanceId) : undefined;
    lookup?.catch(() => { /* reported once the request names the instance */ });
    const signedAt = new Date().toISOString();
    const url = `${base.replace(/\/+$/, "").replace(/^http/, "ws")}${AGENT_STREAM_PREFIX}${sessionId}`;
    const ws = new WebSocket(url, {
      headers: {
        [AGENT_HEADERS.host]: hostId, [AGENT_HEADERS.env]: envId, [AGENT_HEADERS.signedAt]: signedAt,
        [AGENT_HEADERS.signature]: signAgentDial(envId, hostId, sessionId, signedAt, this.o.privateKey),
      },
      perMessageDeflate: false, handshakeTimeout: 10_000, maxPayload: 16 * 1024 * 1024,
      ...(this.o.ca ? { ca: this.o.ca, minVersion: "TLSv1.2" as const } : {}),
    });
    this.open.add(ws);
    ws.once("close", () => this.open.delete(ws));
    ws.on("error", (err) => this.o.log.warn("stream connection failed", { session: sessionId, reason: errorMessage(err) }));
    ws.once("message", (data: Buffer, isBinary) => {
      if (isBinary) return void ws.close(1002, "expected the request");
      let request: StreamRequest;
      try {
        request = JSON.parse(data.toString("utf8")) as StreamRequest;
      } catch {
        return void ws.close(1002, "bad request");
      }
      // What the client sends before the session is ready (stdin typed or piped at once, its end) waits here.
      const early: EarlyMessages = [];
      ws.on("message", (d: Buffer, b: boolean) => { early.push([d, b]); });
      const container = lookup && request.instanceId === instanceId ? lookup : findInstanceContainer(this.o.docker, request.envId, request.instanceId);
      void this.serve(ws, request, sessionId, container, started, early);
    });
  }

  private async serve(ws: WebSocket, request: StreamRequest, sessionId: string, lookup: Promise<StreamContainer>, started: number, early: EarlyMessages): Promise<void> {
    const log = this.o.log.child({ session: sessionId, instance: request.instanceId, action: request.action });
    try {
      if (request.envId !== this.o.envId) throw new Error("the request is for another environment");
      const connectedMs = Math.round(performance.now() - started);
      const container = await lookup;
      // Which command ran is the server's event; the agent's log says only that one did.
      log.info(request.action === "exec" ? "exec stream" : "logs stream", {
        ...(request.action === "exec" ? { tty: request.params.tty } : {}), connectedMs, containerMs: Math.round(performance.now() - started),
      });
      if (request.action === "logs") await runLogs(container, request.params, ws);
      else await runExec(container, request.params, ws, early);
      log.info("stream ended", { ms: Math.round(performance.now() - started) });
    } catch (err) {
      log.warn("stream failed", { reason: errorMessage(err) });
      if (ws.readyState === ws.OPEN) {
        ws.send(JSON.stringify({ type: "error", code: isDroverError(err) ? err.code : "Internal", message: errorMessage(err) }));
        ws.close(1011);
      }
    }
  }

  close(): void {
    for (const ws of this.open) ws.terminate();
  }
}

/**
 * The server to dial for a session: the one the nudge names, else the registered one. The
 * named one gets the same trust (the pinned CA over https, which every server of the
 * installation's certificate comes from) and never less: registered over https, an http URL
 * is refused rather than sending the signed dial-in in the clear.
 */
export function sessionServer(registered: string, named: string | undefined): string | undefined {
  if (!named) return registered;
  let url: URL;
  try {
    url = new URL(named);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (registered.startsWith("https:") && url.protocol !== "https:") return undefined;
  return named;
}
