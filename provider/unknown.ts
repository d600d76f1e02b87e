/**
 * Pulumi's preview sends inputs it cannot know yet as this sentinel string, even where an
 * array or object is expected. Every provider method guards its inputs with these helpers.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN;
}

/** Whether the value is, or holds anywhere inside it, an unknown. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsUnknown);
  return false;
}

/**
 * Paths of the unknowns inside `value`, spelled as the API's validators spell field paths
 * (`ports[1]`, `env.FOO`, `labels["io.rancher.x"]`), so their failures can be matched.
 */
export function unknownPaths(value: unknown, path = ""): string[] {
  if (value === UNKNOWN) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownPaths(v, `${path}[${i}]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => {
      const plain = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(k);
      const child = path === "" ? k : plain ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
      return unknownPaths(v, child);
    });
  }
  return [];
}

/** A failure at `field` is only a consequence of an unknown when one path contains the other. */
export function touchesUnknown(field: string, unknowns: string[]): boolean {
  const within = (inner: string, outer: string) =>
    inner === outer || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`);
  return unknowns.some((u) => within(field, u) || within(u, field));
}
