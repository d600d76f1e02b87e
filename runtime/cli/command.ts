/** One `drover <name>` subcommand. Modules load lazily so `drover --help` stays instant. */
export interface Command {
  name: string;
  summary: string;
  /** Full help text printed by `drover <name> --help`. */
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** Error for bad command-line input: printed with the usage, exit code 2. */
export class UsageError extends Error {}
