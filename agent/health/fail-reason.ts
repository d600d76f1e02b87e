/**
 * Short, stable reasons for a failed check: they end up in the instance's `healthReason`
 * and in events, so they name what happened in words and never carry addresses or stacks.
 */

const byErrno: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  ECONNABORTED: "connection reset",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network unreachable",
  EHOSTDOWN: "host is down",
  ENETDOWN: "network is down",
  ETIMEDOUT: "connect timed out",
  EADDRNOTAVAIL: "no local address available",
  EMFILE: "too many open files",
  ENFILE: "too many open files",
};

/** The reason for a socket error (by its errno code, e.g. ECONNREFUSED). */
export function socketErrorReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code && byErrno[code]) return byErrno[code];
  return code ? `socket error ${code}` : "socket error";
}

/** Cached per timeout value: the checker hands the same string out on every timeout. */
const timeoutReasons = new Map<number, string>();

export function timeoutReason(ms: number): string {
  let reason = timeoutReasons.get(ms);
  if (reason === undefined) {
    reason = `timeout after ${ms} ms`;
    if (timeoutReasons.size < 256) timeoutReasons.set(ms, reason);
  }
  return reason;
}

const httpReasons: string[] = [];

/** `HTTP 503`; one string per code, made once. */
export function httpStatusReason(code: number): string {
  return (httpReasons[code] ??= `HTTP ${code}`);
}

export const MALFORMED_STATUS = "malformed HTTP status line";
export const CLOSED_BEFORE_STATUS = "connection closed before an HTTP status line";
