/**
 * Outputs must be plain JSON: `undefined` fails the gRPC encoding after the side effect
 * happened, and a Date would be stored as `{}`.
 */
export function sanitize(value: unknown): any {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sanitize(v)));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = sanitize(v);
    return out;
  }
  return value;
}

/** JSON with object keys sorted, so values compare by content, not key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(sanitize(value), (_k, v) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
      : v);
}
