/**
 * Opening a logs or exec stream of one instance: a token from the instance's action, then the
 * websocket it names (same server, so the same pinned CA). A refusal of either step is one
 * CliError line.
 */
import WebSocket from "ws";
import type { DroverApi } from "./api-client";
import { refusal } from "./api-client";
import { CliError, EXIT } from "./cli-error";

export async function openStream(api: DroverApi, instanceId: string, action: "logs" | "execute", body: Record<string, unknown>): Promise<WebSocket> {
  const grant = await api.call("POST", `${await api.envPath("instances", encodeURIComponent(instanceId))}?action=${action}`, body);
  // The token request's connection, kept alive, carries the upgrade (the same server: same agent and TLS options).
  return connectStream(grant.url, grant.token, { ...api.tlsOptions(), agent: api.agent });
}

/**
 * Connects to a stream URL with its token (in the Authorization header); resolves once open.
 * `connection`: the CA to trust alone, or a keep-alive agent (with the TLS options its connection was made with).
 */
export function connectStream(url: string, token: string, connection: { ca?: string; agent?: import("http").Agent; rejectUnauthorized?: boolean; minVersion?: "TLSv1.2" } = {}): Promise<WebSocket> {
  const { ca, ...rest } = connection;
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024, handshakeTimeout: 15_000, ...rest, ...(ca ? { ca, minVersion: "TLSv1.2" as const } : {}) });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        let body: unknown = Buffer.concat(chunks).toString("utf8");
        try { body = JSON.parse(body as string); } catch { /* as text */ }
        reject(refusal(res.statusCode ?? 0, body, "stream"));
      });
    });
    ws.once("error", (err) => reject(new CliError(`stream ${new URL(url).origin}: ${err.message}`, EXIT.unreachable)));
  });
}
