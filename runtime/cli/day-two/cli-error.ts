/**
 * Exit codes of the day-two commands (ps, logs, exec, hosts, env, events, inspect, login):
 *   0 done · 1 the server refused or failed (its message shown) · 2 bad usage · 3 not found ·
 *   4 not authorized (missing, wrong or other environment's key) · 5 server unreachable.
 * `drover exec` exits with the command's own code; 125 when drover could not run it.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, unauthorized: 4, unreachable: 5, execFailed: 125 } as const;

/** An error shown as one line (`drover <cmd>: <message>`), ending the command with `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.failed) {
    super(message);
  }
}

/** Exit code for an HTTP status the server answered with. */
export function exitForStatus(status: number): number {
  if (status === 404) return EXIT.notFound;
  if (status === 401 || status === 403) return EXIT.unauthorized;
  if (status === 503 || status === 504) return EXIT.unreachable;
  return EXIT.failed;
}

/** Runs a command body: a CliError becomes its one line on stderr and its exit code. */
export async function runCli(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`drover ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
