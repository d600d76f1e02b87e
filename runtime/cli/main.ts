import { Command, UsageError } from "./command";
import { CliError } from "./day-two/cli-error";

/** Subcommands by name; each is required only when it runs. */
const commands: Record<string, () => Command> = {
  smoke: () => require("./smoke-command").smokeCommand,
  quickstart: () => require("./quickstart-command").quickstartCommand,
  lab: () => require("../../test/lab/lab-command").labCommand,
  agent: () => require("../../agent/agent-command").agentCommand,
  server: () => require("../server/server-command").serverCommand,
  certificate: () => require("./certificate-command").certificateCommand,
  tls: () => require("./tls-command").tlsCommand,
  ssh: () => require("./ssh-command").sshCommand,
  stack: () => require("./stack-command").stackCommand,
  // Day two (exit codes: runtime/cli/day-two/cli-error.ts).
  login: () => require("./login-command").loginCommand,
  ps: () => require("./ps-command").psCommand,
  logs: () => require("./logs-command").logsCommand,
  exec: () => require("./exec-command").execCommand,
  hosts: () => require("./hosts-command").hostsCommand,
  env: () => require("./env-command").envCommand,
  events: () => require("./events-command").eventsCommand,
  inspect: () => require("./inspect-command").inspectCommand,
};

function topUsage(): string {
  const lines = Object.keys(commands).map((name) => `  ${name.padEnd(12)} ${commands[name]().summary}`);
  return ["usage: drover <command> [options]", "", "commands:", ...lines, "",
    "Run `drover <command> --help` for a command's options."].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(topUsage());
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    console.error(`drover: unknown command "${name}"\n\n${topUsage()}`);
    return 2;
  }
  const command = load();
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
