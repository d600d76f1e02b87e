/** One log line per event: `<iso time> <level> <msg> k=v ...`, values JSON-quoted when needed. Never pass secrets. */
export type Logger = (msg: string, fields?: Record<string, unknown>) => void;

export function makeLogger(component: string, out: (line: string) => void = (l) => process.stderr.write(l + "\n")): Logger {
  return (msg, fields = {}) => {
    const kv = Object.entries(fields).map(([k, v]) => {
      const s = typeof v === "string" ? v : JSON.stringify(v);
      return `${k}=${/^[\w.:/@-]*$/.test(s) ? s : JSON.stringify(s)}`;
    });
    out([new Date().toISOString(), component, msg, ...kv].join(" "));
  };
}
