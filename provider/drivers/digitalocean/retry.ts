/**
 * How the DigitalOcean client rides out what the API does on a normal day: 429 (wait until
 * `ratelimit-reset`, or `retry-after`), 5xx and dropped or timed-out connections, retried
 * with exponential back-off and jitter up to a budget. Everything else (401, 404, 422) is an
 * answer, not a hiccup, and is thrown at once. Pure: the caller sleeps.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** First back-off; doubles per attempt up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** The longest a 429 may ask us to wait before we give up instead. */
  maxRateLimitWaitMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 250, maxDelayMs: 8_000, maxRateLimitWaitMs: 120_000 };

/** What an API failure looked like: the HTTP status and headers, or a network error code. */
export interface ApiFailure {
  status?: number;
  headers?: Record<string, unknown>;
  code?: string;
}

const TRANSIENT_CODES: readonly string[] = ["ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ERR_SOCKET_CONNECTION_TIMEOUT"];

/**
 * Milliseconds to wait before the next attempt, or undefined when the failure is final.
 * `attempt` is the 1-based number of the attempt that just failed; `now` in ms.
 */
export function retryDelay(f: ApiFailure, attempt: number, policy: RetryPolicy, now: number, random = Math.random): number | undefined {
  if (attempt >= policy.attempts) return undefined;
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  // Full jitter on half the back-off: parallel hosts that failed together do not retry together.
  const jittered = backoff / 2 + random() * (backoff / 2);
  if (f.status === 429) {
    const wait = rateLimitWait(f.headers ?? {}, now);
    if (wait === undefined) return jittered;
    return wait > policy.maxRateLimitWaitMs ? undefined : wait + random() * 100;
  }
  if (f.status !== undefined && f.status >= 500) return jittered;
  if (f.status === undefined && f.code !== undefined && TRANSIENT_CODES.includes(f.code)) return jittered;
  return undefined;
}

/** `retry-after` (seconds) or `ratelimit-reset` (epoch seconds) as a wait from `now`. */
export function rateLimitWait(headers: Record<string, unknown>, now: number): number | undefined {
  const header = (name: string) => {
    const v = headers[name] ?? headers[name.toLowerCase()];
    const n = Number(Array.isArray(v) ? v[0] : v);
    return Number.isFinite(n) && String(v ?? "").trim() !== "" ? n : undefined;
  };
  const after = header("retry-after");
  if (after !== undefined) return Math.max(0, after * 1000);
  const reset = header("ratelimit-reset");
  if (reset !== undefined) return Math.max(0, reset * 1000 - now);
  return undefined;
}
