/** A field of a Redis stream entry, given as the flat [name, value, ...] list XREAD returns. */
export function streamField(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
