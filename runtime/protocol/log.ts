/**
 * drover's one logger, for server and agent alike: pino, one JSON object per line
 * (`level` as a word, ISO `time`, bound fields, the call's fields, `msg`), so an operator can
 * grep it and a test can parse it. Secrets never reach it: fields whose name looks like a
 * credential are masked whatever the caller passes, and `mask` (agent/secret-mask.ts)
 * replaces secret values this process opened in every line.
 */
import pino from "pino";

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

const levels: readonly LogLevel[] = ["debug", "info", "warn", "error"];
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

function levelFromEnv(): LogLevel {
  const wanted = process.env.DROVER_LOG_LEVEL as LogLevel;
  return levels.includes(wanted) ? wanted : "info";
}

function wrap(p: pino.Logger): Logger {
  return {
    debug: (msg, fields = {}) => p.debug(clean(fields), msg),
    info: (msg, fields = {}) => p.info(clean(fields), msg),
    warn: (msg, fields = {}) => p.warn(clean(fields), msg),
    error: (msg, fields = {}) => p.error(clean(fields), msg),
    child: (fields) => wrap(p.child(clean(fields))),
  };
}

/**
 * `write` gets each line without its newline (stdout by default); lines below `minLevel`
 * (DROVER_LOG_LEVEL, else info) are dropped before they are formatted.
 */
export function createLogger(
  write: (line: string) => void = (line) => process.stdout.write(line + "\n"),
  minLevel: LogLevel = levelFromEnv(),
  base: LogFields = {},
  mask?: { apply(text: string): string },
): Logger {
  const stream = {
    write(chunk: string) {
      const line = chunk.endsWith("\n") ? chunk.slice(0, -1) : chunk;
      write(mask ? mask.apply(line) : line);
    },
  };
  const root = pino({
    level: minLevel,
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, stream);
  return wrap(Object.keys(base).length ? root.child(clean(base)) : root);
}

/** A message for logs from anything thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
