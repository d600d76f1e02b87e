/**
 * The websocket endpoints of logs and exec streams, on the API's own HTTP(S) server (so a
 * TLS API means TLS streams, with the same certificate the agents pin). It registers its two
 * path prefixes with the server's upgrade router:
 *
 *   /v1/streams/<logs|exec>/<instanceId>           a client, with a token from the instance's
 *                                                  `logs` / `execute` action in its
 *                                                  `Authorization: Bearer` header (never in the
 *                                                  URL: URLs land in proxy and access logs)
 *   /v1/agentstreams/<sessionId>                   an agent answering a `stream` nudge, signed
 *                                                  by its host identity key
 *
 * Refusals are plain HTTP answers with drover's JSON error body (the client shows the message).
 */
import type { IncomingMessage, Server } from "http";
import type { Duplex } from "stream";
import type Redis from "ioredis";
import { WebSocketServer } from "ws";
import { DroverError } from "../protocol/errors";
import type { Keys } from "../protocol/keys";
import { AGENT_HEADERS, AGENT_STREAM_PREFIX, CLIENT_STREAM_PREFIX, maskCommand, verifyAgentDial, type StreamAction } from "../protocol/stream-protocol";
import type { Store } from "../store/store";
import { upgradeRouterOf } from "../api/upgrade-router";
import { StreamSessions } from "./stream-sessions";
import { StreamTokens, type StreamGrant, type TokenRefusal } from "./stream-tokens";

export interface StreamDeps {
  redis: Redis;
  keys: Keys;
  store: Store;
  log: (message: string, err?: unknown) => void;
  clock?: () => number;
  agentDialTimeoutMs?: number;
}

export interface AttachedStreams {
  tokens: StreamTokens;
  /** This server's URL as agents reach it, named in stream nudges (several servers: the agent dials this one). */
  advertise(url: string | undefined): void;
  close(): void;
}

const refusalMessages: Record<TokenRefusal, string> = {
  unknown: "stream token unknown, already used or expired: ask for a new one (POST …/instances/<id>?action=logs|execute)",
  expired: "stream token expired: ask for a new one (POST …/instances/<id>?action=logs|execute)",
  "other-instance": "stream token was issued for another instance: ask for one for this instance",
  "other-action": "stream token was issued for another action: ask for one for this action",
};

export function attachStreams(server: Server, deps: StreamDeps): AttachedStreams {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
  const tokens = new StreamTokens(deps.redis, deps.keys);
  let selfUrl: string | undefined;
  const sessions = new StreamSessions(deps.redis, deps.keys, deps.log, deps.agentDialTimeoutMs, () => selfUrl);
  const now = deps.clock ?? Date.now;

  const onUpgrade = (side: typeof client) => (req: IncomingMessage, socket: Duplex, head: Buffer, path: string) => {
    socket.on("error", () => socket.destroy());
    side(req, socket, head, path).catch((err) => refuse(socket, err instanceof DroverError ? err : (deps.log("streams: upgrade failed", err), new DroverError("Internal", "internal error; see the server log"))));
  };

  async function client(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): Promise<void> {
    const [action, instanceId, ...extra] = path.slice(CLIENT_STREAM_PREFIX.length).split("/").map(decodeURIComponent);
    if ((action !== "logs" && action !== "exec") || !instanceId || extra.length) {
      throw new DroverError("NotFound", `no stream ${path}: expected ${CLIENT_STREAM_PREFIX}<logs|exec>/<instanceId>`);
    }
    const url = new URL(req.url ?? "/", "http://drover.invalid");
    // A token in the URL has leaked already (proxy and access logs); refuse it rather than use it.
    // It is burnt too (taken), so a copy from a log is worth nothing.
    const inUrl = url.searchParams.get("token");
    if (inUrl !== null) {
      await tokens.take(inUrl, action as StreamAction, instanceId, now());
      throw new DroverError("InvalidField", "stream token in the URL (?token=) refused and spent: ask for a new one and send it as Authorization: Bearer <token> (URLs land in proxy and access logs)", { field: "token" });
    }
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    if (!token) throw new DroverError("Unauthorized", "stream token missing: send the token of the instance's logs or execute action as Authorization: Bearer <token>");
    const taken = await tokens.take(token, action as StreamAction, instanceId, now());
    if (typeof taken === "string") throw new DroverError("Unauthorized", refusalMessages[taken]);
    const grant: StreamGrant = taken;
    if (grant.action === "exec") await execEvent(grant);
    wss.handleUpgrade(req, socket, head, (ws) => { void sessions.open(grant, ws); });
  }

  async function agent(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): Promise<void> {
    const sessionId = path.slice(AGENT_STREAM_PREFIX.length);
    const grant = sessions.peek(sessionId);
    if (!grant) throw new DroverError("NotFound", `no stream session ${sessionId} waits on this server`);
    const h = (name: string) => String(req.headers[name] ?? "");
    const hostId = h(AGENT_HEADERS.host);
    if (hostId !== grant.hostId || h(AGENT_HEADERS.env) !== grant.envId) throw new DroverError("Forbidden", "this stream session is for another host");
    const host = await deps.store.get(grant.envId, "host", hostId);
    const ok = host?.identityKey !== undefined &&
      verifyAgentDial(grant.envId, hostId, sessionId, h(AGENT_HEADERS.signedAt), h(AGENT_HEADERS.signature), host.identityKey, now());
    if (!ok) throw new DroverError("Unauthorized", "the dial-in is not signed by the host's identity key (or its time is off by more than 5 minutes)");
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (!sessions.join(sessionId, ws)) ws.close(1008, "session taken");
    });
  }

  /** Every exec is an event on the environment's stream: who, which instance, the command (masked). */
  async function execEvent(grant: Extract<StreamGrant, { action: "exec" }>): Promise<void> {
    await deps.redis.xadd(deps.keys.env(grant.envId).events, "MAXLEN", "~", "10000", "*",
      "type", "instance", "action", "exec", "id", grant.instanceId, "hostId", grant.hostId,
      "by", grant.keyId === "admin" ? "admin" : `apikey:${grant.keyId.slice(0, 12)}`,
      "command", JSON.stringify(maskCommand(grant.params.command)), "tty", String(grant.params.tty));
  }

  const router = upgradeRouterOf(server);
  const unregister = [router.register({ prefix: CLIENT_STREAM_PREFIX }, onUpgrade(client)), router.register({ prefix: AGENT_STREAM_PREFIX }, onUpgrade(agent))];
  return {
    tokens,
    advertise(url) { selfUrl = url; },
    close() {
      for (const off of unregister) off();
      sessions.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

function refuse(socket: Duplex, err: DroverError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(err.toJSON());
  socket.end(`HTTP/1.1 ${err.httpStatus} ${err.code}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
