import { parseArgs } from "util";
import type { Command } from "../cli/command";

/** How long a graceful stop may take before the server exits anyway. */
const STOP_DEADLINE_MS = Number(process.env.DROVER_STOP_DEADLINE_MS ?? 10_000);

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
    "                           ($DROVER_DISCONNECT_GRACE, default 30s)",
    "  --redis-command-timeout DUR  a Redis command unanswered this long fails, and the API call",
    "                           with it (503, retryable) instead of waiting for ever",
    "                           ($DROVER_REDIS_COMMAND_TIMEOUT, default 30s, at least 2s)",
    "  --heartbeats-per-second N  an environment's hosts beat at most N times a second together: past",
    "                           that each beats less often, and a lost host is noticed later",
    "                           ($DROVER_HEARTBEATS_PER_SECOND, default 1000: one beat a second up to",
    "                           1,000 hosts, lost after 3.5 s; every 2 s up to 2,000, ...; at most every 10 s)",
    "  --advertise-url URL      this server's own URL as agents reach it, for the logs/exec streams it",
    "                           holds ($DROVER_ADVERTISE_URL; default: --listen unless 0.0.0.0 or ::)",
    "  --lease-ttl DUR          how long an environment's reconciler lease outlives a silent server",
    "                           ($DROVER_LEASE_TTL, default 5s; at least 1s)",
    "  --tls-dir DIR            the CA (ca.pem, ca-key.pem), made once ($DROVER_TLS_DIR, default",
    "                           /var/lib/drover/tls); its fingerprint is in the \"server ready\" line",
    "  --api-tls off|on|auto    HTTPS only for the API, certificate from the CA; auto = unless it",
    "                           listens on loopback only ($DROVER_API_TLS, default auto: HTTPS",
    "                           wherever another machine can reach the API)",
    "  --tls-cert FILE --tls-key FILE   the operator's API certificate instead of one from the CA",
    "  --tls-san NAME,...       extra names/addresses for the API certificate ($DROVER_TLS_SAN)",
    "",
    "SIGTERM/SIGINT stop gracefully within $DROVER_STOP_DEADLINE_MS (default 10000); a second signal exits at once.",
    "$DROVER_HEAP_GROWTH_PERCENT (default 30; 0 = V8's own): how far memory grows between full garbage collections.",
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
        "redis-wait-replicas": { type: "string" }, "advertise-url": { type: "string" }, "heartbeats-per-second": { type: "string" },
        "redis-command-timeout": { type: "string" },
      },
    });
    const { resolveServerConfig } = require("./config") as typeof import("./config");
    const { startServer } = require("./server") as typeof import("./server");
    const config = resolveServerConfig(values);
    (require("./heap-policy") as typeof import("./heap-policy")).applyHeapPolicy();
    const server = await startServer(config);
    const signal = await new Promise<string>((resolve) => {
      for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => resolve(sig));
    });
    // A graceful stop has a deadline, and a second signal ends it at once (as dockerd and
    // nomad do): a stop that hangs says which step it was in instead of ignoring SIGTERM.
    let step = "beginning";
    const give = (why: string) => {
      const holding = process.getActiveResourcesInfo().filter((r) => r !== "Timeout");
      process.stderr.write(JSON.stringify({ level: "error", time: Date.now(), msg: `server: ${why} while stopping ${step}; exiting now`, holding }) + "\n");
      process.exit(1);
    };
    for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => give(`${sig} again`));
    process.stderr.write(JSON.stringify({ level: "info", time: Date.now(), msg: `server: stopping on ${signal} (deadline ${STOP_DEADLINE_MS} ms; a second signal ends it at once)` }) + "\n");
    const deadline = setTimeout(() => give(`graceful stop took over ${STOP_DEADLINE_MS} ms after ${signal}`), STOP_DEADLINE_MS);
    await server.close((s) => { step = s; });
    // Every step done: the process ends on its own, unless a handle still holds it; then the
    // deadline names that instead of leaving a server that ignored SIGTERM.
    step = "after the last step (a handle still holds the process)";
    deadline.unref();
    return 0;
  },
};
