import { parseArgs } from "util";
import type { Command } from "./command";

/**
 * The foundation's stand-in for drover's main job: proves Redis and dockerd answer and
 * that a container can be started and removed through dockerode, then prints a report.
 */
export const smokeCommand: Command = {
  name: "smoke",
  summary: "check Redis and dockerd, start and remove one container, print a report",
  usage: [
    "usage: drover smoke [--redis URL] [--tls-dir DIR] [--docker-socket PATH] [--image NAME]",
    "",
    "  --redis URL           Redis to ping (default $DROVER_REDIS or redis://127.0.0.1:6379): redis://, rediss://,",
    "                        redis+sentinel://h:p,.../NAME, redis+cluster://h:p,... (every node pinged), rediss+...",
    "  --tls-dir DIR         drover's CA, for rediss URLs (default $DROVER_TLS_DIR or /var/lib/drover/tls)",
    "  --docker-socket PATH  dockerd socket (default /var/run/docker.sock)",
    "  --image NAME          image to run (default local/busybox)",
  ].join("\n"),
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        redis: { type: "string", default: process.env.DROVER_REDIS ?? "redis://127.0.0.1:6379" },
        "tls-dir": { type: "string", default: process.env.DROVER_TLS_DIR ?? "/var/lib/drover/tls" },
        "docker-socket": { type: "string", default: "/var/run/docker.sock" },
        image: { type: "string", default: "local/busybox" },
      },
      strict: true,
    });
    const { runSmoke } = require("./smoke") as typeof import("./smoke");
    let report;
    try {
      report = await runSmoke({
        redisUrl: values.redis!,
        tlsDir: values["tls-dir"]!,
        dockerSocket: values["docker-socket"]!,
        image: values.image!,
      });
    } catch (err) {
      // The reason on one line (a bad URL names --redis), not a stack.
      console.error(`drover smoke: ${(err as Error).message}`);
      return 1;
    }
    for (const line of report.lines) console.log(line);
    return report.ok ? 0 : 1;
  },
};
