/**
 * check() helpers: run the API's own pure validators locally (so the provider and the
 * server never disagree), turn their problems into Pulumi check failures that name the
 * field, and drop failures that only come from values preview does not know yet.
 */
import { sanitize } from "./sanitize";
import type { ProviderSettings } from "./settings";
import { isUnknown, touchesUnknown, unknownPaths } from "./unknown";

export interface CheckFailure {
  property: string;
  reason: string;
}

/** Runs a validator that throws a DroverError (all problems in `detail.errors`) and lists its problems. */
export function validatorFailures(validate: () => unknown): CheckFailure[] {
  try {
    validate();
    return [];
  } catch (err: any) {
    const list: Array<{ field?: string; message: string }> = Array.isArray(err?.detail?.errors)
      ? err.detail.errors
      : [{ field: err?.field, message: err?.message ?? String(err) }];
    return list.map((e) => ({ property: e.field ?? "inputs", reason: e.message }));
  }
}

/** The API body: the given keys of `inputs` that are set (null and undefined mean "not given"). */
export function bodyOf(inputs: Record<string, any>, keys: readonly string[]): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const k of keys) if (inputs[k] !== undefined && inputs[k] !== null) body[k] = inputs[k];
  return body;
}

/** Failures for the provider's own inputs: where the server is and which key to use. */
export function connectionFailures(news: Record<string, any>, settings: ProviderSettings | undefined, keyField: "apiKey" | "adminKey"): CheckFailure[] {
  const out: CheckFailure[] = [];
  const endpoint = news.endpoint;
  if (endpoint !== undefined && endpoint !== null && !isUnknown(endpoint)) {
    if (typeof endpoint !== "string" || !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(endpoint)) {
      out.push({ property: "endpoint", reason: `endpoint: expected an http(s) URL such as "http://10.0.0.5:8080", got ${JSON.stringify(endpoint)}` });
    }
  } else if ((endpoint === undefined || endpoint === null) && settings?.endpointError) {
    out.push({ property: "endpoint", reason: settings.endpointError });
  } else if ((endpoint === undefined || endpoint === null) && !settings?.endpoint) {
    out.push({ property: "endpoint", reason: "endpoint: required: set the input `endpoint` or the config `drover:endpoint`" });
  }
  // A malformed drover:caFingerprint shows at preview, not at the first call.
  if (settings?.caFingerprintError) out.push({ property: "endpoint", reason: settings.caFingerprintError });
  const key = news[keyField];
  if (key !== undefined && key !== null && !isUnknown(key) && (typeof key !== "string" || !/^[\x21-\x7e]{1,512}$/.test(key))) {
    out.push({ property: keyField, reason: `${keyField}: expected a key string (printable, no spaces)` });
  }
  return out;
}

/** Checks an id-valued input such as envId or stackId. */
export function idFailures(news: Record<string, any>, field: string): CheckFailure[] {
  const value = news[field];
  if (isUnknown(value)) return [];
  if (value === undefined || value === null) return [{ property: field, reason: `${field}: required: expected a resource id` }];
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
    return [{ property: field, reason: `${field}: expected a resource id, got ${JSON.stringify(value)}` }];
  }
  return [];
}

/**
 * The check result: inputs sanitized, failures caused by unknowns dropped, and failures on a
 * secret input stripped of their property. The engine prints a failure's input value beside
 * its reason ("property apiKey value ... has a problem"), secret or not; without a property
 * it prints the reason alone, which already starts with the field (`apiKey: ...`).
 */
export function checkResult(news: Record<string, any>, failures: CheckFailure[], secretInputs: readonly string[] = []) {
  const unknowns = unknownPaths(news);
  return {
    inputs: sanitize(news),
    failures: failures.filter((f) => !touchesUnknown(f.property, unknowns)).map((f) => withoutSecretValue(f, secretInputs)),
  };
}

/** The failure without its property when that property is (inside) a secret input. */
export function withoutSecretValue(failure: CheckFailure, secretInputs: readonly string[]): CheckFailure {
  const top = failure.property.split(/[.[]/)[0];
  return secretInputs.includes(top) ? { property: "", reason: failure.reason } : failure;
}
