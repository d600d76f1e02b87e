/**
 * The agent's log: one JSON object per line on stdout (`time`, `level`, `msg`, then
 * fields), so an operator can grep it and a test can parse it. Secrets never reach it:
 * fields whose name looks like a credential are masked whatever the caller passes.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

const secretField = /pass(word)?|token|secret|credential/i;

function clean(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (secretField.test(key)) out[key] = "***";
    else if (value instanceof Error) out[key] = value.message;
    else out[key] = value;
  }
  return out;
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** `mask`: secret values opened by this agent (agent/secret-mask.ts) are replaced by `***` in every line. */
export function createLogger(
  write: (line: string) => void = (line) => process.stdout.write(line + "\n"),
  minLevel: LogLevel = (process.env.DROVER_LOG_LEVEL as LogLevel) in order ? (process.env.DROVER_LOG_LEVEL as LogLevel) : "info",
  base: LogFields = {},
  mask?: { apply(text: string): string },
): Logger {
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (order[level] < order[minLevel]) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...clean(base), ...clean(fields) });
    write(mask ? mask.apply(line) : line);
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (fields) => createLogger(write, minLevel, { ...base, ...fields }, mask),
  };
}

/** A message for logs from anything thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
