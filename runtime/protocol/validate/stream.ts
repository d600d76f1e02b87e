/** Bodies of the instance actions that mint stream tokens: `logs` and `execute`. */
import type { ExecParams, LogsParams } from "../stream-protocol";
import { Problems } from "./problems";
import { ObjectReader } from "./reader";

/** Unix seconds up to year 9999, fractions allowed. */
const MAX_SINCE = 253402300799;

/** The longest a stream token may wait to be used (also the default), in seconds. */
export const MAX_STREAM_TOKEN_TTL_S = 60;

/** A token request: the stream's parameters, and `ttl` (seconds the token stays valid, 1 to 60). */
export interface TokenRequest<P> {
  params: P;
  ttlSeconds: number;
}

function ttlOf(r: ObjectReader): number {
  return r.integer("ttl", 1, MAX_STREAM_TOKEN_TTL_S) ?? MAX_STREAM_TOKEN_TTL_S;
}

export function validateLogsInput(body: unknown): TokenRequest<LogsParams> {
  const p = new Problems();
  const r = new ObjectReader(p, body ?? {}, "", ["follow", "tail", "since", "timestamps", "stdout", "stderr", "ttl"]);
  const ttlSeconds = ttlOf(r);
  const tail = r.integer("tail", 0, 1_000_000);
  let since: number | undefined;
  if (r.has("since")) {
    const v = r.raw("since");
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > MAX_SINCE) p.invalid("since", `Unix seconds from 0 to ${MAX_SINCE}`, v);
    else since = v;
  }
  const params: LogsParams = {
    follow: r.boolean("follow") ?? false,
    timestamps: r.boolean("timestamps") ?? false,
    stdout: r.boolean("stdout") ?? true,
    stderr: r.boolean("stderr") ?? true,
    ...(tail !== undefined ? { tail } : {}),
    ...(since !== undefined ? { since } : {}),
  };
  if (!params.stdout && !params.stderr) p.invalid("stdout", "stdout or stderr (or both) true", false);
  p.throwIfAny();
  return { params, ttlSeconds };
}

export function validateExecInput(body: unknown): TokenRequest<ExecParams> {
  const p = new Problems();
  const r = new ObjectReader(p, body ?? {}, "", ["command", "tty", "stdin", "cols", "rows", "ttl"]);
  const ttlSeconds = ttlOf(r);
  const command = r.stringList("command", 1000, { expected: "a non-empty string of at most 65536 characters", maxLength: 65536 });
  if (r.valid && !r.has("command")) p.missing("command", "the command's argv, e.g. [\"sh\", \"-c\", \"ls\"]");
  else if (command !== undefined && command.length === 0) p.invalid("command", "at least one argument", command);
  const cols = r.integer("cols", 1, 10000);
  const rows = r.integer("rows", 1, 10000);
  const params: ExecParams = {
    command: command ?? [],
    tty: r.boolean("tty") ?? false,
    stdin: r.boolean("stdin") ?? false,
    ...(cols !== undefined ? { cols } : {}),
    ...(rows !== undefined ? { rows } : {}),
  };
  p.throwIfAny();
  return { params, ttlSeconds };
}
