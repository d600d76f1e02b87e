/**
 * The provider's HTTP client for drover's API: node's global fetch, a deadline on every
 * call (Pulumi's customTimeouts do not reach dynamic providers), and errors that say which
 * call failed and what the server answered. Create nothing at module scope.
 */
import type { Connection } from "./settings";

export interface ApiReply {
  status: number;
  body: any;
}

export const CALL_TIMEOUT_MS = 30_000;

export async function callApi(conn: Connection, method: string, path: string, body?: unknown, timeoutMs = CALL_TIMEOUT_MS): Promise<ApiReply> {
  const url = conn.endpoint + path;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${conn.key}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (err: any) {
    if (err?.name === "TimeoutError" || err?.name === "AbortError") {
      throw new Error(`${method} ${url}: no complete answer within ${timeoutMs / 1000} s (still pending: the server's response)`);
    }
    throw new Error(`${method} ${url}: ${err?.cause?.message ?? err?.message ?? String(err)}`);
  }
  let parsed: unknown = text;
  try { parsed = text === "" ? undefined : JSON.parse(text); } catch { /* not JSON: keep the text */ }
  return { status: res.status, body: parsed };
}

/** The body of a 2xx answer; anything else throws with the server's code, message and field. */
export async function expectOk(conn: Connection, method: string, path: string, body?: unknown): Promise<any> {
  const reply = await callApi(conn, method, path, body);
  if (reply.status >= 200 && reply.status < 300) return reply.body;
  throw new Error(describeFailure(method, conn.endpoint + path, reply));
}

export function describeFailure(method: string, url: string, reply: ApiReply): string {
  const b = reply.body;
  const detail = typeof b === "object" && b !== null
    ? `${b.code ?? "error"}: ${b.message ?? JSON.stringify(b)}`
    : String(b ?? "").slice(0, 300);
  return `${method} ${url} → ${reply.status} ${detail}`;
}

/** What `read()` returns for a resource that is gone: Pulumi drops it from the state. */
export const GONE = { id: undefined as unknown as string, props: {} };

/**
 * The record at `path` as `pulumi refresh` should see it: undefined when it is gone (404, or
 * on its way out: `removing`/`removed`), the body otherwise; any other failure throws.
 */
export async function fetchLive(conn: Connection, path: string): Promise<any | undefined> {
  const reply = await callApi(conn, "GET", path);
  if (reply.status === 404) return undefined;
  if (reply.status !== 200) throw new Error(describeFailure("GET", conn.endpoint + path, reply));
  const state = reply.body?.state;
  return state === "removing" || state === "removed" ? undefined : reply.body;
}
