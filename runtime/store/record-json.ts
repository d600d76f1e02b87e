import { DroverError } from "../protocol/errors";
import { knownJsonText } from "./json-text";

/**
 * JSON text of an object without one of its fields. Scripts append `rev` (records) or
 * `generation` (desired documents) to this text themselves; see lua/common.ts withField.
 * An instance spec whose text is already known (json-text.ts: the instance factory made it)
 * is not stringified again; the text is the same either way.
 */
export function jsonWithout(value: object, field: string): string {
  // Set to undefined (JSON leaves it out) rather than deleted: a delete turns the copy into a
  // dictionary-mode object, which stringified at a third of the speed (25,000 instance records
  // per pass at scale).
  const spec = (value as { spec?: unknown }).spec;
  const known = spec !== null && typeof spec === "object" ? knownJsonText(spec) : undefined;
  if (known === undefined) return JSON.stringify({ ...(value as Record<string, unknown>), [field]: undefined });
  return withKnownText(JSON.stringify({ ...(value as Record<string, unknown>), [field]: undefined, spec: MARKER }), "spec", known)
    ?? JSON.stringify({ ...(value as Record<string, unknown>), [field]: undefined });
}

/**
 * The desired document's text without `generation` (lua/set-desired.ts adds it): each
 * instance's as jsonWithout makes it (a new instance's spec text is known), the rest as JSON.
 */
export function desiredJson(doc: { hostId: string; generation?: number; instances: object[] }): string {
  const instances = `[${doc.instances.map((i) => jsonWithout(i, "rev")).join(",")}]`;
  return withKnownText(JSON.stringify({ ...doc, generation: undefined, instances: MARKER }), "instances", instances)
    ?? JSON.stringify({ ...doc, generation: undefined });
}

/**
 * Stands for a value whose text is put in afterwards. Its JSON (NUL escaped) can occur in a
 * text only where the marker itself was put, or where a value holds a NUL and these very words:
 * then withKnownText finds it twice and the caller stringifies in full.
 */
const MARKER = "\u0000drover-known-json\u0000";

/** `text` with the one `"key":MARKER` replaced by `"key":known`; undefined unless exactly one. */
function withKnownText(text: string, key: string, known: string): string | undefined {
  const placeholder = `${JSON.stringify(key)}:${JSON.stringify(MARKER)}`;
  const at = text.indexOf(placeholder);
  if (at < 0 || text.indexOf(placeholder, at + 1) >= 0) return undefined;
  return `${text.slice(0, at + key.length + 3)}${known}${text.slice(at + placeholder.length)}`;
}

/** Parses JSON read from Redis; a value that does not parse is an internal error, not a user's. */
export function parseStored<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new DroverError("Internal", `stored ${what} is not valid JSON`, { cause: err });
  }
}

export function parseStoredOrUndefined<T>(text: string | null | undefined, what: string): T | undefined {
  return text == null ? undefined : parseStored<T>(text, what);
}

/** Stable listing order: oldest first, ids breaking ties. */
export function byCreation<T extends { id: string; createdAt?: string }>(a: T, b: T): number {
  const at = a.createdAt ?? "", bt = b.createdAt ?? "";
  if (at !== bt) return at < bt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
