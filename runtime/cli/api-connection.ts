/**
 * How the resource commands (`certificate`, `stack`, `ssh`) reach drover's API: the same
 * settings as every other command (runtime/cli/day-two/settings.ts: flags, $DROVER_URL,
 * $DROVER_ACCESS_KEY or $DROVER_API_KEY, $DROVER_ENV, then `drover login`'s file with its
 * pinned CA), through the same client. `--api-key` stays as another name for `--access-key`.
 * Errors carry the server's own message (code, field), never the key.
 */
import { DroverApi } from "./day-two/api-client";
import { resolveSettings } from "./day-two/settings";

export interface ApiConnection {
  url: string;
  envId: string;
  /** The key the settings resolved to (for downloads the JSON client does not make). */
  accessKey: string;
  /** The pinned CA (PEM) of an https server, from `drover login` (absent: the system's roots). */
  ca?: string;
  /** A call under /v1/environments/<envId>; resolves the parsed body of a 2xx answer, throws the server's message otherwise. */
  call(method: string, path: string, body?: unknown): Promise<any>;
}

export interface ConnectionFlags {
  url?: string;
  "access-key"?: string;
  "api-key"?: string;
  env?: string;
}

export const CONNECTION_OPTIONS = {
  url: { type: "string" },
  "access-key": { type: "string" },
  "api-key": { type: "string" },
  env: { type: "string" },
} as const;

export const CONNECTION_USAGE = [
  "  --url URL          drover server (default $DROVER_URL, else `drover login`'s)",
  "  --access-key KEY   the environment's API key (also --api-key; default $DROVER_ACCESS_KEY",
  "                     or $DROVER_API_KEY, else `drover login`'s)",
  "  --env ENVID        the environment (default $DROVER_ENV, else the key's own)",
];

export async function connect(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Promise<ApiConnection> {
  const config = resolveSettings({ url: flags.url, "access-key": flags["access-key"] ?? flags["api-key"], env: flags.env }, env);
  const api = new DroverApi(config);
  const envId = await api.envId();
  const base = await api.envPath();
  return { url: config.url, envId, accessKey: config.accessKey, ...(config.ca ? { ca: config.ca } : {}), call: (method, path, body) => api.call(method, base + path, body) };
}
