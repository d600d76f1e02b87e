/**
 * Absolute URLs for `links` and `actions`, built from the request's Host header (as Rancher
 * does) so links work through whatever name the client used to reach the server.
 */
import type { IncomingMessage } from "http";

export interface Urls {
  base: string;
  /** `base` + path segments (each URL-encoded) + optional query. */
  to(segments: string[], query?: Record<string, string>): string;
  env(envId: string, ...rest: string[]): string;
  action(resourceUrl: string, action: string): string;
}

const hostPattern = /^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

export function baseUrl(req: IncomingMessage): string {
  const forwarded = String(req.headers["x-forwarded-proto"] ?? "").split(",")[0].trim();
  const proto = forwarded === "https" || forwarded === "http" ? forwarded : "encrypted" in req.socket ? "https" : "http";
  const host = req.headers.host;
  if (host && hostPattern.test(host)) return `${proto}://${host}`;
  // No usable Host header: fall back to the address the request came in on.
  const addr = req.socket.localAddress ?? "127.0.0.1";
  return `${proto}://${addr.includes(":") ? `[${addr}]` : addr}:${req.socket.localPort}`;
}

export function makeUrls(base: string): Urls {
  const to = (segments: string[], query?: Record<string, string>) => {
    const path = segments.map(encodeURIComponent).join("/");
    const qs = query ? new URLSearchParams(query).toString() : "";
    return `${base}/v1/${path}${qs ? `?${qs}` : ""}`;
  };
  return {
    base,
    to,
    env: (envId, ...rest) => to(["environments", envId, ...rest]),
    action: (resourceUrl, action) => `${resourceUrl}?action=${encodeURIComponent(action)}`,
  };
}
