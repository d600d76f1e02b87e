/**
 * The provider's HTTP client for drover's API: node's http/https (a first `fetch` in a fresh
 * provider process costs some 50 ms of loading, which a preview's dry-run placement would
 * add to every changed Service; http costs a fifth of that, and keeps connections alive), a
 * deadline on every call (Pulumi's customTimeouts do not reach dynamic providers), and errors
 * that say which call failed and what the server answered. Create nothing at module scope.
 */
import type { Connection } from "./settings";

export interface ApiReply {
  status: number;
  body: any;
}

export const CALL_TIMEOUT_MS = 30_000;

export function callApi(conn: Connection, method: string, path: string, body?: unknown, timeoutMs = CALL_TIMEOUT_MS): Promise<ApiReply> {
  const url = conn.endpoint + path;
  let target: URL;
  try { target = new URL(url); } catch { return Promise.reject(new Error(`${method} ${url}: not a valid URL`)); }
  const transport = target.protocol === "https:" ? require("https") : require("http");
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | number> = { authorization: `Bearer ${conn.key}`, accept: "application/json" };
  if (payload) Object.assign(headers, { "content-type": "application/json", "content-length": payload.length });
  return new Promise<ApiReply>((resolve, reject) => {
    let settled = false;
    // Declared before its first use: Pulumi's closure serializer cannot follow a later const.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (fn: () => void) => { if (!settled) { settled = true; clearTimeout(timer); fn(); } };
    const req = transport.request(target, { method, headers }, (res: any) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (err: Error) => finish(() => reject(new Error(`${method} ${url}: ${err.message}`))));
      res.on("end", () => finish(() => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: unknown = text;
        try { parsed = text === "" ? undefined : JSON.parse(text); } catch { /* not JSON: keep the text */ }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      }));
    });
    timer = setTimeout(() => finish(() => {
      req.destroy();
      reject(new Error(`${method} ${url}: no complete answer within ${timeoutMs / 1000} s (still pending: the server's response)`));
    }), timeoutMs);
    req.on("error", (err: Error) => finish(() => reject(new Error(`${method} ${url}: ${err.message}`))));
    req.end(payload);
  });
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
