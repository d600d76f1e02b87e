import { parseArgs } from "util";
import type { Command } from "../cli/command";

export const serverCommand: Command = {
  name: "server",
  summary: "run the API and reconciler against Redis",
  usage: [
    "usage: drover server [options]",
    "",
    "  --redis URL              Redis the server uses ($DROVER_REDIS, default redis://127.0.0.1:6379)",
    "                           or redis+sentinel://HOST:PORT,HOST:PORT/MASTER (rediss+sentinel:// for TLS):",
    "                           the primary those sentinels watch, followed across a failover",
    "  --redis-wait-replicas N  with Sentinel: replicas a write must reach before the API acknowledges",
    "                           it (WAIT; $DROVER_REDIS_WAIT_REPLICAS, default 1)",
    "  --agent-redis URL        Redis URL handed to agents ($DROVER_AGENT_REDIS, default: --redis without credentials)",
    "  --listen HOST:PORT       API address ($DROVER_LISTEN, default 127.0.0.1:8080)",
    "  --admin-key-file FILE    file holding the admin key ($DROVER_ADMIN_KEY_FILE or $DROVER_ADMIN_KEY;",
    "                           default: /var/lib/drover/admin-key, created once with mode 0600)",
    "  --master-key-file FILE   the key that seals secrets at rest ($DROVER_MASTER_KEY_FILE; default:",
    "                           /var/lib/drover/master-key, created once with mode 0600); every server",
    "                           sharing a Redis needs the same one",
    "  --key-prefix NAME        Redis key prefix ($DROVER_KEY_PREFIX, default drover)",
    "  --server-id ID           this server's id for leases ($DROVER_SERVER_ID, default random)",
    "  --disconnect-grace DUR   missed-heartbeat time before a host's instances move elsewhere",
    "  --lease-ttl DUR          how long an environment's reconciler lease outlives a silent server",
    "                           ($DROVER_LEASE_TTL, default 5s; at least 1s)",
    "                           ($DROVER_DISCONNECT_GRACE, default 30s)",
    "  --tls-dir DIR            the CA (ca.pem, ca-key.pem), made once ($DROVER_TLS_DIR, default",
    "                           /var/lib/drover/tls); its fingerprint is in the \"server ready\" line",
    "  --api-tls off|on|auto    HTTPS only for the API, certificate from the CA; auto = unless it",
    "                           listens on loopback only ($DROVER_API_TLS, default auto: HTTPS",
    "                           wherever another machine can reach the API)",
    "  --tls-cert FILE --tls-key FILE   the operator's API certificate instead of one from the CA",
    "  --tls-san NAME,...       extra names/addresses for the API certificate ($DROVER_TLS_SAN)",
    "",
    "Redis: a rediss:// URL uses TLS with the CA above and a client certificate (mutual TLS);",
    "with the API on TLS, --agent-redis must be rediss:// unless it is a loopback address",
    "(`drover tls redis-cert` issues Redis's certificate and prints its options).",
  ].join("\n"),
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        redis: { type: "string" }, "agent-redis": { type: "string" }, listen: { type: "string" },
        "admin-key-file": { type: "string" }, "master-key-file": { type: "string" }, "key-prefix": { type: "string" }, "server-id": { type: "string" },
        "disconnect-grace": { type: "string" }, "lease-ttl": { type: "string" }, "tls-dir": { type: "string" }, "api-tls": { type: "string" },
        "tls-cert": { type: "string" }, "tls-key": { type: "string" }, "tls-san": { type: "string" },
        "redis-wait-replicas": { type: "string" },
      },
    });
    const { resolveServerConfig } = require("./config") as typeof import("./config");
    const { startServer } = require("./server") as typeof import("./server");
    const server = await startServer(resolveServerConfig(values));
    await new Promise<void>((resolve) => {
      for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => resolve());
    });
    await server.close();
    return 0;
  },
};
