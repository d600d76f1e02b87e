/** `--since`: an RFC 3339 time, Unix seconds, or a duration before now (`30s`, `10m`, `2h`, `1d`), as Unix seconds. */
export function parseSince(value: string, now = Date.now()): number | undefined {
  const rel = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(value);
  if (rel) return (now - Number(rel[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[rel[2] as "s"]) / 1000;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isFinite(at) ? at / 1000 : undefined;
}
