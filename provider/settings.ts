/**
 * Where the provider finds the server and its keys: resource inputs first, then the stack
 * config that `configure()` received (`drover:endpoint`, `drover:apiKey`, `drover:adminKey`).
 * Nothing is kept at module scope: each provider object holds its own settings.
 */
export interface ProviderSettings {
  endpoint?: string;
  apiKey?: string;
  adminKey?: string;
}

export interface ConfigLike {
  get(key: string): string | undefined;
}

export function settingsFromConfig(config: ConfigLike): ProviderSettings {
  const out: ProviderSettings = {};
  const endpoint = config.get("drover:endpoint");
  const apiKey = config.get("drover:apiKey");
  const adminKey = config.get("drover:adminKey");
  if (endpoint) out.endpoint = endpoint;
  if (apiKey) out.apiKey = apiKey;
  if (adminKey) out.adminKey = adminKey;
  return out;
}

export interface Connection {
  endpoint: string;
  key: string;
}

/** The endpoint and the key (`apiKey` or `adminKey`) a call needs, or an error naming what is missing. */
export function connectionFor(inputs: Record<string, any>, settings: ProviderSettings | undefined, keyField: "apiKey" | "adminKey"): Connection {
  const endpoint = nonEmpty(inputs.endpoint) ?? settings?.endpoint;
  const key = nonEmpty(inputs[keyField]) ?? settings?.[keyField];
  if (!endpoint) throw new Error("endpoint: required: set the resource input `endpoint` or the config `drover:endpoint`");
  if (!key) throw new Error(`${keyField}: required: set the resource input \`${keyField}\` or the config \`drover:${keyField}\` (as a secret)`);
  return { endpoint: endpoint.replace(/\/+$/, ""), key };
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
