import { parseArgs } from "util";
import type { Command } from "./command";

export const quickstartCommand: Command = {
  name: "quickstart",
  summary: "run a server and an agent here and deploy a linked web + cache stack",
  usage: [
    "usage: drover quickstart [--redis URL] [--state-dir DIR] [--keep]",
    "",
    "  --redis URL       Redis to use (default $DROVER_REDIS or redis://127.0.0.1:6379)",
    "  --state-dir DIR   where the admin key, agent identity and logs go (default /var/lib/drover/quickstart)",
    "  --keep            leave the server, agent and containers running (default: tear down after the report)",
  ].join("\n"),
  async run(argv) {
    const { values } = parseArgs({
      args: argv, strict: true,
      options: { redis: { type: "string" }, "state-dir": { type: "string" }, keep: { type: "boolean" } },
    });
    const { runQuickstart } = require("./quickstart") as typeof import("./quickstart");
    const ok = await runQuickstart({
      redisUrl: values.redis ?? process.env.DROVER_REDIS ?? "redis://127.0.0.1:6379",
      stateDir: values["state-dir"] ?? "/var/lib/drover/quickstart",
      keep: !!values.keep,
      out: (l) => console.log(l),
    });
    return ok ? 0 : 1;
  },
};
