/**
 * The DigitalOcean API as the driver needs it, through digitalocean-js (its base URL only is
 * changed in tests: `DIGITALOCEAN_API_URL`). Every call goes through `retrying`: 429s, 5xx and
 * timeouts are waited out (retry.ts); an error that reaches the user says what was asked,
 * the status and DigitalOcean's own `id`/`message`, never the token.
 *
 * digitalocean-js keeps one axios instance per process and its constructor writes the token
 * and base URL into that instance's defaults. axios reads the defaults synchronously when a
 * request starts, so each call builds its client right before it issues the request: two
 * hosts with two tokens in one provider process never borrow each other's.
 */
import { DEFAULT_RETRY, retryDelay, type ApiFailure, type RetryPolicy } from "./retry";

export const API_URL_ENV = "DIGITALOCEAN_API_URL";
export const TOKEN_ENV = "DIGITALOCEAN_TOKEN";
const DEFAULT_API_URL = "https://api.digitalocean.com/v2";
const REQUEST_TIMEOUT_MS = 30_000;

export interface DoDroplet {
  id: number;
  name: string;
  status: "new" | "active" | "off" | "archive";
  tags: string[];
  networks: { v4: Array<{ ip_address: string; type: "public" | "private" }> };
  region?: { slug: string };
  size_slug?: string;
}

export interface DoSshKey { id: number; fingerprint: string; public_key: string; name: string }

export interface CreateDropletRequest {
  name: string; region: string; size: string; image: string;
  ssh_keys: Array<string | number>; tags: string[]; vpc_uuid?: string; monitoring?: boolean;
}

/** A failed call: the status DigitalOcean answered (or none), with a message safe to show. */
export class DoApiError extends Error {
  constructor(message: string, readonly status?: number, readonly doId?: string) {
    super(message);
    this.name = "DoApiError";
  }
}

export interface DoApi {
  createKey(name: string, publicKey: string, fingerprint: string): Promise<DoSshKey>;
  deleteKey(idOrFingerprint: number | string): Promise<void>;
  keysNamed(name: string): Promise<DoSshKey[]>;
  createDroplet(req: CreateDropletRequest, findTag: string): Promise<DoDroplet>;
  getDroplet(id: number): Promise<DoDroplet | undefined>;
  dropletsTagged(tag: string): Promise<DoDroplet[]>;
  deleteDroplet(id: number): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function failureOf(err: any): ApiFailure {
  return { status: err?.response?.status, headers: err?.response?.headers, code: err?.code };
}

/** "POST /droplets: 422 unprocessable_entity: Region is not available" (no header, no token). */
function describe(what: string, err: any): DoApiError {
  const status: number | undefined = err?.response?.status;
  const body = err?.response?.data;
  if (status === undefined) return new DoApiError(`DigitalOcean ${what}: ${err?.code ?? "no answer"} (${String(err?.message ?? err).replace(/Bearer\s+\S+/g, "Bearer ***")})`);
  const detail = body && typeof body === "object" ? `${body.id ?? "error"}: ${body.message ?? ""}`.trim() : String(body ?? "").slice(0, 200);
  const hint = status === 401 ? " (check driver.token or DIGITALOCEAN_TOKEN)" : "";
  return new DoApiError(`DigitalOcean ${what}: ${status} ${detail}${hint}`, status, body?.id);
}

export function doApi(token: string, opts: { url?: string; policy?: RetryPolicy } = {}): DoApi {
  const url = opts.url ?? process.env[API_URL_ENV] ?? DEFAULT_API_URL;
  const policy = opts.policy ?? DEFAULT_RETRY;

  /** The library's client, its shared axios instance set for this token right now (see the file's comment). */
  function client() {
    const { DigitalOcean } = require("digitalocean-js");
    const { instance } = require("digitalocean-js/src/lib/axios-instance");
    const c = new DigitalOcean(token, url);
    instance.defaults.timeout = REQUEST_TIMEOUT_MS;
    return { c, http: instance };
  }

  async function retrying<T>(what: string, call: () => Promise<T>, beforeRetry?: () => Promise<T | undefined>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (attempt > 1 && beforeRetry) {
          const already = await beforeRetry();
          if (already !== undefined) return already;
        }
        return await call();
      } catch (err: any) {
        if (err instanceof DoApiError) throw err;
        const wait = retryDelay(failureOf(err), attempt, policy, Date.now());
        if (wait === undefined) {
          const e = describe(what, err);
          if (failureOf(err).status === 429 || (failureOf(err).status ?? 0) >= 500) e.message += ` (gave up after ${attempt} attempts)`;
          throw e;
        }
        await sleep(wait);
      }
    }
  }

  /** Every page of a list, following `links.pages.next`. */
  async function all<T>(what: string, path: string, field: string, params: Record<string, unknown>): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = path;
    let query: Record<string, unknown> | undefined = { ...params, per_page: 200 };
    while (next) {
      const page: any = await retrying(what, () => { const { http } = client(); return http.get(next!, { params: query }); });
      out.push(...(page.data?.[field] ?? []));
      next = page.data?.links?.pages?.next;
      query = undefined; // the next link carries its own query
    }
    return out;
  }

  const ignore404 = async (p: Promise<unknown>) => {
    try { await p; } catch (err: any) { if (!(err instanceof DoApiError && err.status === 404)) throw err; }
  };

  return {
    async createKey(name, publicKey, fingerprint) {
      try {
        return await retrying("POST /account/keys", () => client().c.ssh.createNewKey({ name, public_key: publicKey }));
      } catch (err: any) {
        // A retried POST whose first try did land: the key is ours already.
        if (err instanceof DoApiError && err.status === 422) {
          const existing = await retrying(`GET /account/keys/${fingerprint}`, () => client().c.ssh.getExistingKey(fingerprint)).catch(() => undefined);
          if (existing && (existing as DoSshKey).name === name) return existing as DoSshKey;
        }
        throw err;
      }
    },
    deleteKey: (idOrFp) => ignore404(retrying(`DELETE /account/keys/${idOrFp}`, () => client().c.ssh.deleteKey(idOrFp))),
    keysNamed: async (name) => (await all<DoSshKey>("GET /account/keys", "/account/keys", "ssh_keys", {})).filter((k) => k.name === name),
    createDroplet(req, findTag) {
      // A create that timed out or got a 5xx may have made the droplet: look for it by its tag before trying again.
      return retrying("POST /droplets", () => client().c.droplets.createNewDroplet(req),
        async () => (await all<DoDroplet>("GET /droplets", "/droplets", "droplets", { tag_name: findTag })).find((d) => d.name === req.name));
    },
    async getDroplet(id) {
      try {
        return await retrying(`GET /droplets/${id}`, () => client().c.droplets.getExistingDroplet(id));
      } catch (err) {
        if (err instanceof DoApiError && err.status === 404) return undefined;
        throw err;
      }
    },
    dropletsTagged: (tag) => all<DoDroplet>("GET /droplets", "/droplets", "droplets", { tag_name: tag }),
    deleteDroplet: (id) => ignore404(retrying(`DELETE /droplets/${id}`, () => client().c.droplets.deleteDroplet(id))),
  };
}
