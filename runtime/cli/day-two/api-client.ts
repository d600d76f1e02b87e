/**
 * The day-two commands' client of drover's API: JSON over http(s) with the access key,
 * trusting only the pinned CA when there is one. A refusal becomes one CliError line with
 * the server's message and what to do about it.
 */
import * as http from "http";
import * as https from "https";
import { isCertificateError, request } from "../../protocol/pinned-https";
import { CliError, EXIT, exitForStatus } from "./cli-error";
import type { CliConfig } from "./settings";

export class DroverApi {
  private envIdCache?: string;
  /**
   * One keep-alive connection for the command's requests and its stream's websocket upgrade
   * (stream-client.ts): `drover exec` pays one TCP (and TLS) handshake, not one per request.
   */
  readonly agent: http.Agent;

  constructor(readonly config: CliConfig) {
    this.agent = config.url.startsWith("https:") ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  /** TLS options of every connection to the server (the same on the websocket, so the agent reuses the connection). */
  tlsOptions(): { ca?: string; rejectUnauthorized: true; minVersion: "TLSv1.2" } | Record<string, never> {
    return this.config.url.startsWith("https:") ? { ...(this.config.ca ? { ca: this.config.ca } : {}), rejectUnauthorized: true, minVersion: "TLSv1.2" } : {};
  }

  async call(method: string, path: string, body?: unknown): Promise<any> {
    const url = path.startsWith("http") ? path : this.config.url + path;
    let reply;
    try {
      reply = await request(url, {
        method, ca: this.config.ca, timeoutMs: 30_000, agent: this.agent,
        headers: { authorization: `Bearer ${this.config.accessKey}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      if (isCertificateError(err)) {
        throw new CliError(`${this.config.url}: the server's certificate is not trusted: run \`drover login --url ${this.config.url} --ca-fingerprint sha256:…\` (the server prints its fingerprint)`, EXIT.unreachable);
      }
      throw new CliError(`cannot reach ${this.config.url}: ${(err as Error).message}: check --url / DROVER_URL and that the server runs`, EXIT.unreachable);
    }
    let parsed: any;
    try { parsed = reply.text === "" ? undefined : JSON.parse(reply.text); } catch { parsed = reply.text; }
    if (reply.status < 300) return parsed;
    throw refusal(reply.status, parsed, `${method} ${path}`);
  }

  /** The environment: --env / $DROVER_ENV / the config's, else the one the key belongs to. */
  async envId(): Promise<string> {
    if (this.config.envId) return this.config.envId;
    if (this.envIdCache) return this.envIdCache;
    const root = await this.call("GET", "/v1");
    const link: string | undefined = root?.links?.environment;
    if (!link) throw new CliError("this key sees several environments (the admin key): give --env ENVID or set DROVER_ENV", EXIT.usage);
    this.envIdCache = decodeURIComponent(link.slice(link.lastIndexOf("/") + 1));
    return this.envIdCache;
  }

  async envPath(...rest: string[]): Promise<string> {
    return `/v1/environments/${encodeURIComponent(await this.envId())}${rest.map((s) => `/${s}`).join("")}`;
  }

  /** Every item of a collection (following `pagination.next`). */
  async list(collection: string, query = ""): Promise<any[]> {
    const out: any[] = [];
    let next: string | undefined = `${await this.envPath(collection)}?limit=1000${query ? `&${query}` : ""}`;
    while (next) {
      const page: any = await this.call("GET", next);
      out.push(...(page.data ?? []));
      next = page.pagination?.next ?? undefined;
    }
    return out;
  }
}

/** The one-line error for an answer ≥ 300, with the fix where one is known. */
export function refusal(status: number, body: any, what: string): CliError {
  const message = typeof body === "object" && body !== null ? String(body.message ?? JSON.stringify(body)) : String(body).slice(0, 300);
  const fix = status === 401 ? ": check --access-key / DROVER_ACCESS_KEY (`drover login`)"
    : status === 404 ? " (or not in this key's environment: check --env and --access-key)" : "";
  return new CliError(`${what}: ${status} ${message}${fix}`, exitForStatus(status));
}
