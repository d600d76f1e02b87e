import { normalizeFingerprint } from "../runtime/protocol/fingerprint";

/**
 * Where the provider finds the server and its keys: resource inputs first, then the stack
 * config that `configure()` received (`drover:endpoint`, `drover:apiKey`, `drover:adminKey`).
 * Nothing is kept at module scope: each provider object holds its own settings.
 */
export interface ProviderSettings {
  endpoint?: string;
  /** Why the config's `drover:endpoint` was not taken (it is then left out of `endpoint`). */
  endpointError?: string;
  apiKey?: string;
  adminKey?: string;
  /** `drover:caFingerprint`: the server CA's SHA-256 fingerprint, for an https endpoint with drover's own CA. */
  caFingerprint?: string;
  caFingerprintError?: string;
}

/**
 * Why `value` is not a server URL drover can hand to an agent, or undefined when it is one:
 * http(s), a host, no credentials, no whitespace or control characters. (The agent's launch
 * file takes any value safely; this catches mistakes early, with the field named.)
 */
export function endpointProblem(value: unknown, field: string): string | undefined {
  const expected = `${field}: expected an http(s) URL such as "https://10.0.0.5:8080"`;
  if (typeof value !== "string" || value === "") return `${expected}, got ${JSON.stringify(value)}`;
  if (/[\s\x00-\x1f\x7f]/.test(value)) return `${expected} without whitespace or control characters, got ${JSON.stringify(value)}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${expected}, got ${JSON.stringify(value)}`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `${expected}, got the scheme ${url.protocol}`;
  if (!url.hostname) return `${expected} with a host, got ${JSON.stringify(value)}`;
  if (url.username || url.password) return `${field}: must not carry credentials (use apiKey / adminKey)`;
  return undefined;
}

export interface ConfigLike {
  get(key: string): string | undefined;
}

export function settingsFromConfig(config: ConfigLike): ProviderSettings {
  const out: ProviderSettings = {};
  const endpoint = config.get("drover:endpoint");
  const apiKey = config.get("drover:apiKey");
  const adminKey = config.get("drover:adminKey");
  if (endpoint) {
    const problem = endpointProblem(endpoint, "drover:endpoint");
    if (problem) out.endpointError = problem;
    else out.endpoint = endpoint;
  }
  if (apiKey) out.apiKey = apiKey;
  const pin = config.get("drover:caFingerprint");
  if (pin) {
    const normalized = normalizeFingerprint(pin);
    if (normalized) out.caFingerprint = normalized;
    else out.caFingerprintError = `drover:caFingerprint: expected a SHA-256 fingerprint such as sha256:3f1c… (drover tls fingerprint prints it), got ${JSON.stringify(pin)}`;
  }
  if (adminKey) out.adminKey = adminKey;
  return out;
}

export interface Connection {
  endpoint: string;
  key: string;
  /** Pinned server CA (https endpoints with drover's own CA): calls trust it alone (provider/client.ts). */
  caFingerprint?: string;
}

/** The endpoint and the key (`apiKey` or `adminKey`) a call needs, or an error naming what is missing. */
export function connectionFor(inputs: Record<string, any>, settings: ProviderSettings | undefined, keyField: "apiKey" | "adminKey"): Connection {
  const endpoint = nonEmpty(inputs.endpoint) ?? settings?.endpoint;
  const key = nonEmpty(inputs[keyField]) ?? settings?.[keyField];
  if (!endpoint && settings?.endpointError) throw new Error(settings.endpointError);
  if (!endpoint) throw new Error("endpoint: required: set the resource input `endpoint` or the config `drover:endpoint`");
  const problem = endpointProblem(endpoint, nonEmpty(inputs.endpoint) ? "endpoint" : "drover:endpoint");
  if (problem) throw new Error(problem);
  if (!key) throw new Error(`${keyField}: required: set the resource input \`${keyField}\` or the config \`drover:${keyField}\` (as a secret)`);
  if (settings?.caFingerprintError) throw new Error(settings.caFingerprintError);
  return { endpoint: endpoint.replace(/\/+$/, ""), key, ...(settings?.caFingerprint ? { caFingerprint: settings.caFingerprint } : {}) };
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * The server URL a resource will use, as check() can know it: the `endpoint` input, else the
 * config's. check() puts it into the inputs as `serverUrl`, so a preview that updates the
 * resource keeps it known and dependents (which take it as their `endpoint`) see no change.
 * Preview's unknown sentinel passes through as it is.
 */
export function serverUrlFor(inputs: Record<string, any>, settings: ProviderSettings | undefined): string | undefined {
  const endpoint = inputs.endpoint;
  if (typeof endpoint === "string" && endpoint !== "") return endpoint.replace(/\/+$/, "");
  if (endpoint !== undefined && endpoint !== null) return undefined;
  return settings?.endpoint?.replace(/\/+$/, "");
}
