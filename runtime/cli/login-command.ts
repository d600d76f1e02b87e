/**
 * drover login: checks the URL and key against the server, then saves them (and the server's
 * CA, pinned by fingerprint, for https with drover's own CA) in the CLI config file, mode 0600.
 */
import type { Command } from "./command";
import { UsageError } from "./command";
import { DroverApi } from "./day-two/api-client";
import { CliError, EXIT, runCli } from "./day-two/cli-error";
import { parseCommand } from "./day-two/command-kit";
import { configPath, type CliConfig, writeConfigFile } from "./day-two/settings";

export const loginCommand: Command = {
  name: "login",
  summary: "save the server URL and access key for the other commands",
  usage: ["usage: drover login --url URL --access-key KEY [--ca-fingerprint sha256:…] [--env ENVID]", "",
    "  --url URL                 drover server (default $DROVER_URL)",
    "  --access-key KEY          the environment's API key (default $DROVER_ACCESS_KEY)",
    "  --ca-fingerprint FP       https with drover's own CA: the CA's fingerprint (the server prints it; `drover tls fingerprint`)",
    "  --env ENVID               the environment (default: the key's own)",
    "Writes $DROVER_CONFIG, else $XDG_CONFIG_HOME/drover/cli.json or ~/.config/drover/cli.json (mode 0600)."].join("\n"),
  run: (argv) => runCli("login", async () => {
    const { values, positionals } = parseCommand(argv, { "ca-fingerprint": { type: "string" } });
    if (positionals.length) throw new UsageError(`takes no arguments, got ${positionals.join(" ")}`);
    const url = String(values.url ?? process.env.DROVER_URL ?? "").replace(/\/+$/, "");
    const accessKey = String(values["access-key"] ?? process.env.DROVER_ACCESS_KEY ?? "");
    if (!/^https?:\/\/[^\s/]+/.test(url)) throw new UsageError("--url: expected the server's http(s):// URL");
    if (!accessKey) throw new UsageError("--access-key: expected the environment's API key (or set DROVER_ACCESS_KEY)");
    let ca: string | undefined;
    if (values["ca-fingerprint"]) {
      if (!url.startsWith("https:")) throw new UsageError("--ca-fingerprint is for an https:// URL");
      const { fetchPinnedCa } = await import("../protocol/pinned-https");
      try {
        ca = await fetchPinnedCa(url, values["ca-fingerprint"], { timeoutMs: 15_000 });
      } catch (err) {
        throw new CliError(`${(err as Error).message}`, EXIT.unauthorized);
      }
    }
    const config: CliConfig = { url, accessKey, ...(values.env ? { envId: values.env } : {}), ...(ca ? { ca } : {}) };
    const api = new DroverApi(config);
    const envId = await api.envId();
    const env = await api.call("GET", `/v1/environments/${encodeURIComponent(envId)}`);
    const file = configPath();
    // The environment is saved too: later commands skip asking the server whose key it is.
    writeConfigFile(file, { ...config, envId });
    console.log(`logged in to ${url}, environment ${env.name} (${envId}); settings in ${file}`);
    return EXIT.ok;
  }),
};
