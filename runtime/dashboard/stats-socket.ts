/**
 * The stats websocket: `GET /v1/stats?token=<stream token>&since=<ms>` upgraded to a
 * websocket that carries StatsMessage JSON text frames, server → client only. It registers
 * its own `upgrade` listener and takes only its own path, so other websocket endpoints can
 * sit beside it on the same server.
 *
 * - The token (runtime/dashboard/stream-token.ts) is checked before the upgrade: a bad or
 *   expired one is refused with 401, a token for an environment that is gone with 404.
 * - `since`: samples newer than this time (ms since the epoch) are sent first from the hosts'
 *   stats streams (the agents' few minutes of history), then live ones; the client uses it to
 *   fill the gap after a drop. Ids per host never go backwards on one socket.
 * - Clients send nothing: a data frame closes the socket (1003), one over 1 KiB too (1009,
 *   by ws). A client whose unsent data passes `maxBufferedBytes` is cut off (4008): a slow
 *   reader costs the server at most that much memory and never delays the others.
 */
import type { IncomingMessage, Server } from "http";
import type { Duplex } from "stream";
import type Redis from "ioredis";
import { WebSocket, WebSocketServer } from "ws";
import type { Keys } from "../protocol/keys";
import { statsCloseCodes, statsHistoryLength } from "../protocol/stats";
import type { Store } from "../store/store";
import { statsSocketPath } from "../api/handlers/stats-tokens";
import { upgradeRouterOf } from "../api/upgrade-router";
import { FeedSubscriber, sampleField, StatsFeed, statsMessageText } from "./stats-feed";
import { checkStreamToken } from "./stream-token";
import { duplicateClient, NO_COMMAND_TIMEOUT } from "../protocol/redis-client";

export interface StatsSocketOptions {
  adminKey: string;
  store: Store;
  keys: Keys;
  /** For backlog reads; each environment's feed gets its own duplicate of it (blocking reads). */
  redis: Redis;
  log: (message: string, err?: unknown) => void;
  maxBufferedBytes?: number;
  maxPayloadBytes?: number;
  pingIntervalMs?: number;
}

export interface StatsSocket {
  /** Open sockets (for tests and benchmarks). */
  clients(): number;
  close(): void;
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(Number);
  const [bm, bs] = b.split("-").map(Number);
  return am !== bm ? am - bm : as - bs;
}

class SocketSubscriber implements FeedSubscriber {
  private readonly sent = new Map<string, string>();
  /** Live samples that came while the backlog was being read. */
  private pending: Array<[string, string, string]> | undefined = [];

  constructor(private readonly ws: WebSocket, private readonly maxBufferedBytes: number) {}

  deliver(hostId: string, id: string, text: string): void {
    if (this.pending) {
      this.pending.push([hostId, id, text]);
      return;
    }
    this.send(hostId, id, text);
  }

  send(hostId: string, id: string, text: string): void {
    const last = this.sent.get(hostId);
    if (last !== undefined && compareIds(id, last) <= 0) return;
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > this.maxBufferedBytes) {
      this.ws.close(statsCloseCodes.slowClient, "client reads too slowly");
      // A client that does not read will not read the close frame either.
      setTimeout(() => this.ws.terminate(), 1_000).unref();
      return;
    }
    this.sent.set(hostId, id);
    this.ws.send(text);
  }

  /** The backlog is out: what queued meanwhile goes now, in order. */
  live(): void {
    const pending = this.pending ?? [];
    this.pending = undefined;
    for (const [hostId, id, text] of pending) this.send(hostId, id, text);
  }
}

export function attachStatsSocket(server: Server, opts: StatsSocketOptions): StatsSocket {
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayloadBytes ?? 1024 });
  const feeds = new Map<string, StatsFeed>();
  const maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;

  const refuse = (socket: Duplex, status: number, text: string) => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", "http://drover.invalid");
    void (async () => {
      const check = checkStreamToken(opts.adminKey, url.searchParams.get("token") ?? "");
      if (!check.ok) return refuse(socket, 401, `Unauthorized: stream token ${check.reason}`);
      const env = await opts.store.getEnvironment(check.grant.envId).catch(() => undefined);
      if (!env) return refuse(socket, 404, "Not Found");
      const sinceParam = Number(url.searchParams.get("since") ?? "");
      const since = Number.isFinite(sinceParam) && sinceParam > 0 ? Math.floor(sinceParam) : Date.now();
      wss.handleUpgrade(req, socket, head, (ws) => void serve(ws, env.id, since));
    })().catch((err) => {
      opts.log("stats socket: upgrade failed", err);
      socket.destroy();
    });
  };

  const serve = async (ws: WebSocket, envId: string, since: number) => {
    const sub = new SocketSubscriber(ws, maxBuffered);
    let feed = feeds.get(envId);
    if (!feed) {
      feed = new StatsFeed(envId, duplicateClient(opts.redis, { connectionName: "drover-stats-feed", ...NO_COMMAND_TIMEOUT }), opts.keys, opts.store, opts.log);
      feeds.set(envId, feed);
    }
    feed.subscribers.add(sub);
    let alive = true;
    ws.on("pong", () => { alive = true; });
    const ping = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, opts.pingIntervalMs ?? 15_000);
    ws.on("message", () => ws.close(statsCloseCodes.unexpectedData, "this stream takes no messages"));
    ws.on("error", () => ws.terminate()); // ws has already closed with 1009 for oversized frames
    ws.on("close", () => {
      clearInterval(ping);
      const f = feeds.get(envId);
      f?.subscribers.delete(sub);
      if (f && f.subscribers.size === 0) {
        f.close();
        feeds.delete(envId);
      }
    });
    // The history after the feed knows where its live samples start (StatsFeed.ready).
    await feed.ready;
    try {
      const hosts = await opts.store.list(envId, "host");
      for (const host of hosts) {
        const entries = await opts.redis.xrange(opts.keys.host(envId, host.id).stats, `${since + 1}-0`, "+", "COUNT", statsHistoryLength * 2);
        for (const entry of entries) {
          const raw = sampleField(entry);
          const text = raw === undefined ? undefined : statsMessageText(host.id, entry[0], raw);
          if (text !== undefined) sub.send(host.id, entry[0], text);
        }
      }
    } catch (err) {
      opts.log("stats socket: reading the history failed", err);
    }
    sub.live();
  };

  const unregister = upgradeRouterOf(server).register({ exact: statsSocketPath }, onUpgrade);
  return {
    clients: () => wss.clients.size,
    close() {
      unregister();
      for (const ws of wss.clients) ws.close(statsCloseCodes.goingAway, "server shutting down");
      for (const f of feeds.values()) f.close();
      feeds.clear();
      wss.close();
    },
  };
}
