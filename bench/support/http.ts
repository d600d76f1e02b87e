/** HTTP helpers for benchmarks: a fast readiness probe and a JSON client for drover's API. */
import { WaitAbort, waitFor } from "../../runtime/protocol/poll";
import * as http from "http";
import * as https from "https";
import { performance } from "perf_hooks";

/** One GET; resolves with the status, or undefined when the connection failed (not listening yet). */
export function getStatus(url: string, timeoutMs = 1000, ca?: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const secure = url.startsWith("https:");
    const req = (secure ? https : http).get(url, { agent: false, timeout: timeoutMs, ...(secure ? { ca } : {}) }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
      res.on("error", () => resolve(undefined));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
  });
}

/**
 * Polls `url` every `intervalMs` until it answers 200; resolves with performance.now() of that
 * answer. Gives up when `alive()` turns false or after `timeoutMs`.
 */
export async function waitForOk(url: string, opts: { intervalMs?: number; timeoutMs?: number; alive?: () => boolean; ca?: string } = {}): Promise<number> {
  const interval = opts.intervalMs ?? 2;
  // A fixed short interval: the moment of the first 200 is what is measured.
  return waitFor(async () => {
    if (await getStatus(url, 1000, opts.ca) === 200) return performance.now();
    if (opts.alive && !opts.alive()) throw new WaitAbort(`process serving ${url} exited before it answered`);
    return undefined;
  }, { what: `${url} to answer 200`, timeoutMs: opts.timeoutMs ?? 15_000, intervalMs: interval, maxIntervalMs: interval });
}

/**
 * drover's API with one bearer key (keep-alive connections through fetch; with `ca`, an https
 * server with drover's CA, through a keep-alive https agent trusting that CA: fetch takes none).
 */
/** Api.call's request aborted at its `timeoutMs` with no whole answer. */
export class NoAnswerError extends Error {}

export class Api {
  private readonly agent?: https.Agent;

  constructor(readonly baseUrl: string, private readonly key?: string, ca?: string) {
    if (ca) this.agent = new https.Agent({ ca, keepAlive: true });
  }

  /** `timeoutMs`: the request is aborted (rejects, naming it) when no whole answer came in that time. */
  async call(method: string, path: string, body?: unknown, opts: { timeoutMs?: number } = {}): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = {};
    if (this.key) headers.authorization = `Bearer ${this.key}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const signal = opts.timeoutMs === undefined ? undefined : AbortSignal.timeout(opts.timeoutMs);
    const res = await (this.agent
      ? httpsCall(this.agent, this.baseUrl + path, method, headers, payload, signal)
      : fetch(this.baseUrl + path, { method, headers, body: payload, signal }).then(async (r) => ({ status: r.status, text: await r.text() })))
      .catch((err: Error) => {
        if (signal?.aborted) throw new NoAnswerError(`${method} ${path}: no answer in ${opts.timeoutMs} ms`);
        throw err;
      });
    const text = res.text;
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, body: parsed };
  }

  async ok(method: string, path: string, body?: unknown): Promise<any> {
    const res = await this.call(method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
    return res.body;
  }

  /** `pagination.total` of a collection query (e.g. `instances?state=active`). */
  async total(path: string): Promise<number> {
    const sep = path.includes("?") ? "&" : "?";
    const body = await this.ok("GET", `${path}${sep}limit=1`);
    return Number(body.pagination?.total);
  }
}

export interface EnvHandle {
  id: string;
  apiKey: string;
  registrationToken: string;
  api: Api;
  /** /v1/environments/<id> */
  base: string;
}

export async function createEnvironment(
  baseUrl: string, adminKey: string, name: string, network?: { cidr: string; hostSubnetPrefix: number }, ca?: string,
): Promise<EnvHandle> {
  const env = await new Api(baseUrl, adminKey, ca).ok("POST", "/v1/environments", { name, ...(network ? { network } : {}) });
  return { id: env.id, apiKey: env.apiKey, registrationToken: env.registrationToken, api: new Api(baseUrl, env.apiKey, ca), base: `/v1/environments/${env.id}` };
}

function httpsCall(agent: https.Agent, url: string, method: string, headers: Record<string, string>, body?: string, signal?: AbortSignal): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers: { ...headers, ...(body !== undefined ? { "content-length": String(Buffer.byteLength(body)) } : {}) }, agent, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
