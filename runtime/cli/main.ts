import type { Command } from "./command";
import { runCommand } from "./run-command";

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
  return runCommand(name, load(), rest);
}
