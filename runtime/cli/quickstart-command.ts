import { parseArgs } from "util";
import type { Command } from "./command";

export const quickstartCommand: Command = {
  name: "quickstart",
  summary: "start a server here and `pulumi up` examples/quickstart (local host, web + cache, load balancer)",
  usage: [
    "usage: drover quickstart [--redis URL] [--state-dir DIR] [--keep] [--verbose]",
    "",
    "  --redis URL       Redis to use (default $DROVER_REDIS or redis://127.0.0.1:6379)",
    "  --state-dir DIR   admin key, server pid file and log, Pulumi state and stack config, agent files",
    "                    (default $DROVER_STATE/quickstart, i.e. /var/lib/drover/quickstart)",
    "  --keep            leave the server, agent and containers running (default: `pulumi destroy` after the",
    "                    report, then stop the server); running again reuses the kept server and stack",
    "  --verbose         show Pulumi's output as it runs (default: a summary line per run; the full",
    "                    output in <state dir>/pulumi.log)",
  ].join("\n"),
  async run(argv) {
    const { values } = parseArgs({
      args: argv, strict: true,
      // --quiet: the default now, still accepted.
      options: { redis: { type: "string" }, "state-dir": { type: "string" }, keep: { type: "boolean" }, quiet: { type: "boolean" }, verbose: { type: "boolean" } },
    });
    const { runQuickstart } = require("./quickstart") as typeof import("./quickstart");
    const ok = await runQuickstart({
      redisUrl: values.redis ?? process.env.DROVER_REDIS ?? "redis://127.0.0.1:6379",
      stateDir: values["state-dir"] ?? `${process.env.DROVER_STATE ?? "/var/lib/drover"}/quickstart`,
      keep: !!values.keep,
      out: (l) => console.log(l),
      progress: values.verbose && !values.quiet ? (chunk) => process.stdout.write(chunk) : undefined,
    });
    return ok ? 0 : 1;
  },
};
