/**
 * Reading an HTTP health check's answer: only its status line's first bytes,
 * `HTTP/<d>.<d> <ddd>` and the separator after the code. The checker hands over the bytes
 * it has so far; a verdict is possible as soon as those 13 bytes are in, or as soon as
 * they cannot be a status line (garbage fails at once instead of waiting for a timeout).
 */

/** Bytes a checker needs to keep: `HTTP/1.1 200` plus the character after the code. */
export const STATUS_HEAD_BYTES = 13;

/** Not enough bytes yet to tell. */
export const INCOMPLETE = -1;
/** The bytes cannot start an HTTP/1.x status line. */
export const MALFORMED = -2;

const H = 0x48, T = 0x54, P = 0x50, SLASH = 0x2f, DOT = 0x2e, SPACE = 0x20, CR = 0x0d, LF = 0x0a;
const PREFIX = [H, T, T, P, SLASH];

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/**
 * The status code in `head[0..len)`, or INCOMPLETE, or MALFORMED. Byte by byte so a
 * wrong byte is caught however few have arrived.
 */
export function statusCode(head: Uint8Array, len: number): number {
  const n = Math.min(len, STATUS_HEAD_BYTES);
  for (let i = 0; i < n; i++) {
    const c = head[i];
    let ok: boolean;
    if (i < 5) ok = c === PREFIX[i];
    else if (i === 5 || i === 7) ok = isDigit(c);
    else if (i === 6) ok = c === DOT;
    else if (i === 8) ok = c === SPACE;
    else if (i < 12) ok = isDigit(c);
    else ok = c === SPACE || c === CR || c === LF;
    if (!ok) return MALFORMED;
  }
  if (n < STATUS_HEAD_BYTES) return INCOMPLETE;
  return (head[9] - 0x30) * 100 + (head[10] - 0x30) * 10 + (head[11] - 0x30);
}

/** 2xx and 3xx pass (Rancher's and HAProxy's rule). */
export function statusPasses(code: number): boolean {
  return code >= 200 && code < 400;
}
