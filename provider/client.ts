/**
 * The provider's HTTP client for drover's API: node's http/https (a first `fetch` in a fresh
 * provider process costs some 50 ms of loading, which a preview's dry-run placement would
 * add to every changed Service; http costs a fifth of that, and keeps connections alive), a
 * deadline on every call (Pulumi's customTimeouts do not reach dynamic providers), and errors
 * that say which call failed and what the server answered. Create nothing at module scope.
 *
 * With `drover:caFingerprint` (an https endpoint with drover's own CA) every call trusts only
 * the CA with that fingerprint (provider/pinned-ca.ts): nobody in the middle can answer in the
 * server's place, and the API key never goes to anyone else.
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
  if (target.protocol !== "https:" || !conn.caFingerprint) return send(conn, method, url, target, body, timeoutMs);
  const { pinnedAgent } = require("./pinned-ca") as typeof import("./pinned-ca");
  return pinnedAgent({ ...conn, caFingerprint: conn.caFingerprint }, timeoutMs).then(
    (agent) => send(conn, method, url, target, body, timeoutMs, agent),
    (err: Error) => { throw new Error(`${method} ${url}: ${err.message}`); });
}

function send(conn: Connection, method: string, url: string, target: URL, body: unknown, timeoutMs: number, agent?: unknown): Promise<ApiReply> {
  const transport = target.protocol === "https:" ? require("https") : require("http");
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | number> = { authorization: `Bearer ${conn.key}`, accept: "application/json" };
  if (payload) Object.assign(headers, { "content-type": "application/json", "content-length": payload.length });
  return new Promise<ApiReply>((resolve, reject) => {
    let settled = false;
    // Declared before `finish` uses it: Pulumi's closure serializer cannot capture a const still in its dead zone.
    let timer: NodeJS.Timeout | undefined = undefined;
    const finish = (fn: () => void) => { if (!settled) { settled = true; clearTimeout(timer); fn(); } };
    const req = transport.request(target, { method, headers, ...(agent ? { agent } : {}) }, (res: any) => {
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
    req.on("error", (err: Error) => finish(() => reject(new Error(`${method} ${url}: ${describeTransportError(err, conn)}`))));
    req.end(payload);
  });
}

/** A certificate refusal says which CA was expected and what to set; other errors as node words them. */
function describeTransportError(err: Error, conn: Connection): string {
  const { isCertificateError } = require("../runtime/protocol/pinned-https") as typeof import("../runtime/protocol/pinned-https");
  if (!isCertificateError(err)) return err.message;
  const code = (err as NodeJS.ErrnoException).code;
  return conn.caFingerprint
    ? `the server's certificate is not signed by the pinned CA ${conn.caFingerprint}: refused (${code})`
    : `the server's certificate is not trusted (${code}): for a server with drover's own CA set drover:caFingerprint (\`drover tls fingerprint\` prints it)`;
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
