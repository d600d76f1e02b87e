/**
 * drover exec [-i] [-t] INSTANCE -- CMD…: runs a command in an instance's container through
 * the server and the agent of its host; exits with the command's exit code. With -t the
 * terminal is put in raw mode and its size follows window resizes.
 */
import type { Command } from "./command";
import { UsageError } from "./command";
import { CliError, EXIT, runCli } from "./day-two/cli-error";
import { apiFrom, parseCommand } from "./day-two/command-kit";
import { SETTINGS_USAGE } from "./day-two/settings";

export const execCommand: Command = {
  name: "exec",
  summary: "run a command in an instance's container (-it: an interactive terminal)",
  usage: ["usage: drover exec [-i] [-t] INSTANCE -- COMMAND [ARG…]", "",
    "  INSTANCE           an instance id or name (app-web-1), or a service (its first instance)",
    "  -i, --interactive  send stdin to the command",
    "  -t, --tty          allocate a terminal (raw mode; window size follows resizes)",
    "Exit code: the command's; 125 when drover could not run it (the reason on stderr).",
    ...SETTINGS_USAGE].join("\n"),
  run: (argv) => runCli("exec", async () => {
    const dashes = argv.indexOf("--");
    const { values, positionals } = parseCommand(dashes >= 0 ? argv.slice(0, dashes) : argv, {
      interactive: { type: "boolean", short: "i", default: false }, tty: { type: "boolean", short: "t", default: false },
    });
    const command = dashes >= 0 ? [...positionals.slice(1), ...argv.slice(dashes + 1)] : positionals.slice(1);
    if (positionals.length === 0) throw new UsageError("expected INSTANCE -- COMMAND");
    if (command.length === 0) throw new UsageError("expected a COMMAND after the instance, e.g. drover exec web-1 -- sh");
    const api = apiFrom(values);
    const { resolveTarget } = await import("./day-two/resolve");
    const { openStream } = await import("./day-two/stream-client");
    const { CHANNEL, frame } = await import("../protocol/stream-protocol");
    const tty = Boolean(values.tty);
    const interactive = Boolean(values.interactive);
    const size = tty && process.stdout.isTTY ? { cols: process.stdout.columns, rows: process.stdout.rows } : {};
    const body = { command, tty, stdin: interactive, ...size };
    const asFailure = (err: unknown) => { throw err instanceof CliError && err.exitCode !== EXIT.notFound ? new CliError(err.message, EXIT.execFailed) : err; };
    // An instance id goes straight to its token (one request less); a name is looked up first.
    let instance: { id: string; name: string } = { id: positionals[0], name: positionals[0] };
    let ws = await openStream(api, instance.id, "execute", body).catch((err) => {
      if (err instanceof CliError && err.exitCode === EXIT.notFound) return undefined;
      return asFailure(err);
    });
    if (!ws) {
      instance = (await resolveTarget(api, positionals[0])).instances[0];
      if (!instance) throw new CliError(`service ${positionals[0]} has no instance to run in`, EXIT.notFound);
      ws = await openStream(api, instance.id, "execute", body).catch(asFailure);
    }
    const raw = tty && interactive && process.stdin.isTTY;
    if (raw) process.stdin.setRawMode(true);
    const onResize = () => ws.send(JSON.stringify({ type: "resize", cols: process.stdout.columns, rows: process.stdout.rows }));
    if (tty && process.stdout.isTTY) process.stdout.on("resize", onResize);
    if (interactive) {
      process.stdin.on("data", (chunk: Buffer) => { if (ws.readyState === ws.OPEN) ws.send(frame(CHANNEL.stdin, chunk)); });
      process.stdin.once("end", () => { if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: "stdin-end" })); });
    }
    const result = await new Promise<{ code?: number; error?: string }>((resolve) => {
      let outcome: { code?: number; error?: string } = {};
      ws.on("message", (data: Buffer, isBinary) => {
        if (isBinary) {
          (data[0] === CHANNEL.stderr ? process.stderr : process.stdout).write(data.subarray(1));
          return;
        }
        const control = JSON.parse(data.toString("utf8"));
        if (control.type === "exit") outcome = { code: control.code };
        else if (control.type === "error") outcome = { error: control.message };
      });
      ws.once("close", () => resolve(outcome));
    });
    if (raw) process.stdin.setRawMode(false);
    process.stdout.off("resize", onResize);
    // stdin is touched only with -i (reading it otherwise would hold a pipe's writer).
    if (interactive) {
      process.stdin.pause();
      process.stdin.unref?.();
    }
    if (result.error !== undefined) throw new CliError(`${instance.name}: ${result.error}`, EXIT.execFailed);
    if (result.code === undefined) throw new CliError(`${instance.name}: the stream ended without an exit code (agent or server gone?)`, EXIT.execFailed);
    return result.code;
  }),
};
