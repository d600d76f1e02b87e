/**
 * One argument of an HAProxy config line, quoted so HAProxy reads back exactly `value`:
 * bare when it holds only plain characters; else in single quotes (no escapes, no `${}`
 * expansion inside them); a value with a single quote goes in double quotes with `\`, `"`
 * and `$` escaped. `#` and spaces would otherwise start a comment or split the argument.
 */
export function quoteArg(value: string): string {
  if (/[\x00-\x1f\x7f]/.test(value)) throw new Error(`control characters cannot be written into an HAProxy config: ${JSON.stringify(value)}`);
  if (/^[A-Za-z0-9._\/:@%+=,-]+$/.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}
