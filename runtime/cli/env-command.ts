import type { Command } from "./command";
import { UsageError } from "./command";
import { EXIT, runCli } from "./day-two/cli-error";
import { apiFrom, parseCommand, printJson } from "./day-two/command-kit";
import { SETTINGS_USAGE } from "./day-two/settings";
import { age, table } from "./day-two/table";

export const envCommand: Command = {
  name: "env",
  summary: "environments: `drover env ls`",
  usage: ["usage: drover env ls [--json]", "", "  lists the environments the key sees (an environment key: its own)", ...SETTINGS_USAGE].join("\n"),
  run: (argv) => runCli("env", async () => {
    const { values, positionals } = parseCommand(argv, {});
    if (positionals[0] !== "ls" || positionals.length > 1) throw new UsageError(`expected \`env ls\`, got \`env ${positionals.join(" ")}\``);
    const api = apiFrom(values);
    const page = await api.call("GET", "/v1/environments?limit=1000");
    const envs: any[] = page.data ?? [];
    if (values.json) {
      printJson(envs.map((e) => ({ id: e.id, name: e.name, state: e.state, network: e.network, createdAt: e.createdAt })));
      return EXIT.ok;
    }
    console.log(table(["ID", "NAME", "STATE", "NETWORK", "AGE"], envs.map((e) => [e.id, e.name, e.state, e.network?.cidr ?? "-", age(e.createdAt)])));
    return EXIT.ok;
  }),
};
