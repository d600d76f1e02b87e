/** `drover ssh HOST [-- ssh args]`: log in to a host drover made, with its config archive's key alone. */
import { CliError } from "./day-two/cli-error";
import { spawn } from "child_process";
import * as path from "path";
import { parseArgs } from "util";
import { connect, CONNECTION_OPTIONS, CONNECTION_USAGE } from "./api-connection";
import { UsageError, type Command } from "./command";
import { fetchHostConfig, hostIdOf } from "./host-config";

export const sshCommand: Command = {
  name: "ssh",
  summary: "log in to a cloud host with the key drover made for it (its config download)",
  usage: [
    "usage: drover ssh HOST [--config-only] [connection options] [-- ssh arguments]",
    "",
    "Downloads the host's config archive (id_rsa, id_rsa.pub, ssh_config, known_hosts, ca.pem) to",
    "~/.drover/hosts/HOST/ and runs `ssh -F ~/.drover/hosts/HOST/ssh_config HOST`. Every download is",
    "an event on the environment's stream. Only hosts whose machine drover made (digitalocean) have one.",
    "",
    "  --config-only    download and unpack, print the directory, do not run ssh",
    "",
    "connection options:",
    ...CONNECTION_USAGE,
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, options: { ...CONNECTION_OPTIONS, "config-only": { type: "boolean" } }, allowPositionals: true, strict: true });
    const [host, ...sshArgs] = positionals;
    if (!host) throw new UsageError("HOST: expected the host's name");
    try {
      const api = await connect(values);
      const { id, name } = await hostIdOf(api, host);
      const dir = await fetchHostConfig(api.url, api.accessKey, api.envId, id, undefined, api.ca);
      if (values["config-only"]) {
        console.log(dir);
        return 0;
      }
      const child = spawn("ssh", ["-F", path.join(dir, "ssh_config"), name, ...sshArgs], { stdio: "inherit" });
      return await new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? 1)));
    } catch (err) {
      if (err instanceof UsageError) throw err;
      console.error(`drover ssh ${host}: ${(err as Error).message}`);
      return err instanceof CliError ? err.exitCode : 1;
    }
  },
};
