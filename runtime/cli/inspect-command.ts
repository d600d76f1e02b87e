import type { Command } from "./command";
import { UsageError } from "./command";
import { CliError, EXIT, runCli } from "./day-two/cli-error";
import { apiFrom, parseCommand, printJson } from "./day-two/command-kit";
import { SETTINGS_USAGE } from "./day-two/settings";

/** Collections by the id prefixes drover gives (options.ts idPrefix); instances have none of their own. */
const byPrefix: Array<[RegExp, string]> = [
  [/^1lb/, "loadbalancers"], [/^1ce/, "certificates"], [/^1st/, "stacks"], [/^1s/, "services"], [/^1h/, "hosts"],
];

export const inspectCommand: Command = {
  name: "inspect",
  summary: "show a resource as the API does (Rancher's \"View in API\" JSON)",
  usage: ["usage: drover inspect ID", "", "  ID               an environment, host, stack, service, load balancer, certificate or instance id",
    ...SETTINGS_USAGE].join("\n"),
  run: (argv) => runCli("inspect", async () => {
    const { values, positionals } = parseCommand(argv, {});
    if (positionals.length !== 1) throw new UsageError("expected one ID");
    const api = apiFrom(values);
    const id = positionals[0];
    if (/^1a/.test(id)) {
      printJson(await api.call("GET", `/v1/environments/${encodeURIComponent(id)}`));
      return EXIT.ok;
    }
    const guessed = byPrefix.find(([re]) => re.test(id))?.[1];
    for (const collection of [...(guessed ? [guessed] : []), "instances", "services", "hosts", "stacks", "loadbalancers", "certificates"]) {
      try {
        printJson(await api.call("GET", await api.envPath(collection, encodeURIComponent(id))));
        return EXIT.ok;
      } catch (err) {
        if (!(err instanceof CliError) || err.exitCode !== EXIT.notFound) throw err;
      }
    }
    throw new CliError(`no resource ${id} in environment ${await api.envId()}`, EXIT.notFound);
  }),
};
