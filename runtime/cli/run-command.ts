import { Command, UsageError } from "./command";
import { CliError } from "./day-two/cli-error";

/**
 * Runs one subcommand with drover's conventions: `drover <cmd> --help` prints its usage, a
 * usage error prints the message and the usage (exit 2), a CliError one line and its exit
 * code. Shared by main.ts and the prebuilt per-command bundles (scripts/bundle-cli.js).
 */
export async function runCommand(name: string, command: Command, rest: string[]): Promise<number> {
  // Only `drover <cmd> --help` is ours; a later --help belongs to the command (or, after
  // `--`, to a program it runs, as in `drover lab exec h1 -- docker --help`).
  if (rest[0] === "--help" || rest[0] === "-h") {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`drover ${name}: ${(err as Error).message}\n\n${command.usage}`);
      return 2;
    }
    // One line with the fix and the documented exit code (runtime/cli/day-two/cli-error.ts), not a stack.
    if (err instanceof CliError) {
      console.error(`drover ${name}: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
}
