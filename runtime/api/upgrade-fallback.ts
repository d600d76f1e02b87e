/**
 * Websocket endpoints each attach their own `upgrade` listener and ignore paths that are not
 * theirs (logs/exec streams, the stats socket). An upgrade to any other path would otherwise
 * get no answer at all and hang until the client gives up: this answers it 404 and closes.
 */
import type { Server } from "http";
import type { Duplex } from "stream";
import { AGENT_STREAM_PREFIX, CLIENT_STREAM_PREFIX } from "../protocol/stream-protocol";
import { statsSocketPath } from "./handlers/stats-tokens";

export function isWebsocketPath(pathname: string): boolean {
  return pathname === statsSocketPath || pathname.startsWith(CLIENT_STREAM_PREFIX) || pathname.startsWith(AGENT_STREAM_PREFIX);
}

export function refuseUnknownUpgrades(server: Server): void {
  server.on("upgrade", (req: { url?: string }, socket: Duplex) => {
    const pathname = new URL(req.url ?? "/", "http://drover.invalid").pathname;
    if (isWebsocketPath(pathname)) return;
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
}
