/**
 * The bytes of an HTTP health check request, made once per target (not per check) from the
 * spec's `requestLine`: the line, then `Host` when it says HTTP/1.1, `Connection: close`,
 * `User-Agent: drover-health`, and the blank line.
 *
 * Accepted lines: `METHOD PATH [VERSION]` with VERSION `HTTP/1.0` (the default, as HAProxy's
 * `option httpchk` has it) or `HTTP/1.1`, tokens separated by spaces. Rancher's own form
 * quotes the path and version (`GET "/healthz" "HTTP/1.0"`); the quotes are dropped.
 */
import { isIPv6 } from "net";
import type { RequestLine } from "../../runtime/protocol/request-line";

export { parseRequestLine, type RequestLine } from "../../runtime/protocol/request-line";

/** The request for one target; `line` must have passed parseRequestLine. */
export function requestBytes(line: RequestLine, ip: string, port: number): Buffer {
  const host = line.version === "HTTP/1.1" ? `Host: ${isIPv6(ip) ? `[${ip}]` : ip}:${port}\r\n` : "";
  return Buffer.from(`${line.method} ${line.path} ${line.version}\r\n${host}Connection: close\r\nUser-Agent: drover-health\r\n\r\n`, "latin1");
}
