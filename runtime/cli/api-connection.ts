/**
 * How a CLI command reaches drover's API: `--url`/$DROVER_URL, `--api-key`/$DROVER_API_KEY
 * and `--env`/$DROVER_ENV (default: the environment the API key belongs to, from GET /v1).
 * Errors carry the server's own message (code, field), never the key.
 */
import { UsageError } from "./command";

export interface ApiConnection {
  url: string;
  envId: string;
  /** A call under /v1/environments/<envId>; resolves the parsed body of a 2xx answer, throws the server's message otherwise. */
  call(method: string, path: string, body?: unknown): Promise<any>;
}

export interface ConnectionFlags {
  url?: string;
  "api-key"?: string;
  env?: string;
}

export const CONNECTION_OPTIONS = {
  url: { type: "string" },
  "api-key": { type: "string" },
  env: { type: "string" },
} as const;

export const CONNECTION_USAGE = [
  "  --url URL        drover server, e.g. http://10.0.0.5:8080 (default $DROVER_URL)",
  "  --api-key KEY    the environment's API key (default $DROVER_API_KEY)",
  "  --env ENVID      the environment (default $DROVER_ENV, else the API key's own environment)",
];

export async function connect(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Promise<ApiConnection> {
  const url = (flags.url ?? env.DROVER_URL ?? "").replace(/\/+$/, "");
  const key = flags["api-key"] ?? env.DROVER_API_KEY ?? "";
  if (!/^https?:\/\/\S+$/.test(url)) throw new UsageError("--url: expected the server's http(s) URL (or set DROVER_URL)");
  if (key === "") throw new UsageError("--api-key: expected the environment's API key (or set DROVER_API_KEY)");
  const request = async (method: string, path: string, body?: unknown): Promise<any> => {
    let res: Response;
    try {
      res = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${key}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err: any) {
      throw new Error(`${method} ${url}${path}: ${err?.cause?.message ?? err?.message ?? String(err)}`);
    }
    const text = await res.text();
    let parsed: any;
    try { parsed = text === "" ? undefined : JSON.parse(text); } catch { parsed = text; }
    if (res.ok) return parsed;
    const why = typeof parsed === "object" && parsed !== null ? `${parsed.code ?? "error"}: ${parsed.message ?? text}` : text.slice(0, 300);
    throw new Error(`${method} ${path} → ${res.status} ${why}`);
  };
  let envId = flags.env ?? env.DROVER_ENV;
  if (envId === undefined || envId === "") {
    const root = await request("GET", "/v1");
    const link: string | undefined = root?.links?.environment;
    if (!link) throw new UsageError("--env: expected an environment id (the API key is not an environment's key)");
    envId = decodeURIComponent(link.slice(link.lastIndexOf("/") + 1));
  }
  const base = `/v1/environments/${encodeURIComponent(envId)}`;
  return { url, envId, call: (method, path, body) => request(method, base + path, body) };
}
