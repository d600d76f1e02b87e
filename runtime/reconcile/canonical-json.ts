/**
 * JSON with sorted object keys, so equal documents compare equal whatever their key order:
 * exactly `JSON.stringify(value, replacer)` with a replacer that rebuilds every plain object
 * with its keys sorted (how it used to be written), made in one walk instead. Every pass
 * fingerprints every host's observed document with it (observed-fingerprint.ts), and at 1,250
 * hosts the replacer, called once per value, and its copies of every object cost ~0.1 s.
 * For data that came from JSON (no cycles; BigInt throws as JSON.stringify does). Pure.
 */
export function canonical(value: unknown): string {
  return text(value, "") as string;
}

/** The text of `value` under `key` (toJSON sees it), or undefined where JSON leaves the value out. */
function text(value: unknown, key: string): string | undefined {
  if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i ? "," : "") + (text(value[i], String(i)) ?? "null");
    return out + "]";
  }
  const keys = sortedKeys(value);
  let out = "{";
  let first = true;
  for (const k of keys) {
    const v = text((value as Record<string, unknown>)[k], k);
    if (v === undefined) continue;
    out += (first ? "" : ",") + JSON.stringify(k) + ":" + v;
    first = false;
  }
  return out + "}";
}

/**
 * Object.keys sorted as the replacer's rebuilt object listed them: its array-index keys
 * ("0", "2", "10") first in numeric order, as every object lists them, then the others sorted.
 */
function sortedKeys(value: object): string[] {
  const keys = Object.keys(value);
  let indexes = 0;
  while (indexes < keys.length && isArrayIndex(keys[indexes])) indexes++;
  if (indexes === 0) return keys.sort();
  return [...keys.slice(0, indexes), ...keys.slice(indexes).sort()];
}

function isArrayIndex(key: string): boolean {
  const first = key.charCodeAt(0);
  if (!(first >= 48 && first <= 57)) return false; // not a digit: the common case, no regex
  return /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4294967295;
}
