/**
 * Errors that keep their cause: every failure of a Host's machine work says which step
 * failed (connect, host key check, authentication, node check, Docker check, upload, unpack,
 * service start, registration wait, ...), on which host, and which input to look at, in one
 * line: `driver.privateKey: host node1: authentication failed (ssh root@10.0.0.5:22): the
 * server refused the key`.
 *
 * The dynamic-provider host prints `${err}: ${err.stack}` to the engine for every failed
 * call; an error from `oneLineError` has no stack trace to print, so the user reads the
 * sentence once, not a dozen lines of drover's internals.
 */

export type HostStep =
  | "agent bundle" | "agent executable" | "connect" | "host key check" | "authentication" | "node check" | "Docker check" | "upload" | "unpack"
  | "service start" | "registration wait" | "token removal" | "uninstall" | "log read" | "credential check" | "launch file update";

export interface StepFailure extends Error {
  step: HostStep;
  /** The input to look at (`driver.privateKey`), when one is to blame. */
  field?: string;
  detail: string;
}

/** A failed step, before it knows its host (the driver adds that). */
export function stepFailure(step: HostStep, detail: string, field?: string): StepFailure {
  const err = new Error(`${field ? `${field}: ` : ""}${step} failed: ${detail}`) as StepFailure;
  err.step = step;
  err.detail = oneLine(detail);
  if (field) err.field = field;
  return err;
}

export function isStepFailure(err: unknown): err is StepFailure {
  return err instanceof Error && typeof (err as StepFailure).step === "string";
}

/** Text on one line: line breaks become " | ", runs of blanks one space. */
export function oneLine(text: string): string {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "").join(" | ").replace(/[ \t]+/g, " ");
}

/**
 * The message a user reads: `<field>: host <name>: <step> failed (<how>): <detail>`. Any
 * other error (a bug, an unexpected library error) keeps its message, on one line, with
 * the host named.
 */
export function hostStepMessage(hostname: string, how: string, err: unknown): string {
  if (isStepFailure(err)) return `${err.field ? `${err.field}: ` : ""}host ${hostname}: ${err.step} failed (${how}): ${err.detail}`;
  const message = oneLine((err as Error)?.message ?? String(err));
  if (message.includes(`host ${hostname}`)) return message;
  // A message that names its input (`endpoint: required: ...`) keeps the input first.
  const field = /^([A-Za-z_][A-Za-z0-9_.]*(?:\[[^\]]+\])*): (.*)$/.exec(message);
  return field ? `${field[1]}: host ${hostname} (${how}): ${field[2]}` : `host ${hostname} (${how}): ${message}`;
}

/**
 * An Error whose message is all there is to say: no stack trace in the engine's output.
 * Extra properties (`id`, `properties` of a partially created resource) are kept.
 */
export function oneLineError(message: string, extra: Record<string, unknown> = {}): Error {
  const err = new Error(message);
  // `${err}: ${err.stack}` becomes "drover: <message>".
  Object.defineProperty(err, "stack", { value: message, writable: true, configurable: true });
  Object.defineProperty(err, "toString", { value: () => "drover", configurable: true });
  Object.defineProperty(err, "oneLine", { value: true });
  return Object.assign(err, extra);
}

/** `err` as a one-line error naming the host (as it is when it already is one). */
export function asHostError(hostname: string, how: string, err: unknown): Error {
  if ((err as { oneLine?: boolean })?.oneLine === true) return err as Error;
  const { id, properties } = (err ?? {}) as { id?: unknown; properties?: unknown };
  return oneLineError(hostStepMessage(hostname, how, err), id === undefined ? {} : { id, properties });
}
