import { randomBytes } from "crypto";
import * as fs from "fs";

/** Everything `drover server` can be told, from flags or DROVER_* environment variables. */
export interface ServerConfig {
  /** Redis the server uses (may carry credentials). */
  redisUrl: string;
  /** Redis URL handed to agents (no credentials; they get their own ACL user). */
  agentRedisUrl: string;
  keyPrefix: string;
  listenHost: string;
  listenPort: number;
  adminKey: string;
  /** The file holding the master key that seals each environment's data key (runtime/secrets/master-key.ts). */
  masterKeyFile: string;
  serverId: string;
  /** Missed-heartbeat time after which a host is disconnected and its instances move. */
  disconnectGraceMs: number;
  heartbeatIntervalMs: number;
  heartbeatTtlMs: number;
  resyncIntervalMs: number;
  tickMs: number;
  leaseTtlMs: number;
}

export interface ServerFlags {
  redis?: string;
  "agent-redis"?: string;
  "key-prefix"?: string;
  listen?: string;
  "admin-key-file"?: string;
  "master-key-file"?: string;
  "server-id"?: string;
  "disconnect-grace"?: string;
}

export function resolveServerConfig(flags: ServerFlags, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const redisUrl = flags.redis ?? env.DROVER_REDIS ?? "redis://127.0.0.1:6379";
  const listen = flags.listen ?? env.DROVER_LISTEN ?? "127.0.0.1:8080";
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new Error(`--listen: expected HOST:PORT, got ${JSON.stringify(listen)}`);
  const graceText = flags["disconnect-grace"] ?? env.DROVER_DISCONNECT_GRACE ?? "30s";
  return {
    redisUrl,
    agentRedisUrl: flags["agent-redis"] ?? env.DROVER_AGENT_REDIS ?? stripCredentials(redisUrl),
    keyPrefix: flags["key-prefix"] ?? env.DROVER_KEY_PREFIX ?? "drover",
    listenHost: m[1] || "127.0.0.1",
    listenPort: Number(m[2]),
    adminKey: readAdminKey(flags["admin-key-file"] ?? env.DROVER_ADMIN_KEY_FILE, env.DROVER_ADMIN_KEY),
    masterKeyFile: flags["master-key-file"] ?? env.DROVER_MASTER_KEY_FILE ?? "/var/lib/drover/master-key",
    serverId: flags["server-id"] ?? env.DROVER_SERVER_ID ?? `srv-${randomBytes(4).toString("hex")}`,
    disconnectGraceMs: parseDuration(graceText, "--disconnect-grace"),
    heartbeatIntervalMs: 1000,
    heartbeatTtlMs: 3500,
    resyncIntervalMs: 30_000,
    tickMs: 500,
    leaseTtlMs: 5000,
  };
}

/** `30s`, `1500ms`, `2m` or a bare number of milliseconds. */
export function parseDuration(text: string, field: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`${field}: expected a duration like 30s, 1500ms or 2m, got ${JSON.stringify(text)}`);
  const n = Number(m[1]);
  return Math.round(m[2] === "s" ? n * 1000 : m[2] === "m" ? n * 60_000 : n);
}

function stripCredentials(url: string): string {
  const u = new URL(url);
  u.username = "";
  u.password = "";
  return u.toString().replace(/\/$/, "");
}

/**
 * The admin key comes from a file (preferred: not visible in `ps`) or DROVER_ADMIN_KEY.
 * With neither, a new key is written to /var/lib/drover/admin-key (mode 0600), never logged.
 */
function readAdminKey(file: string | undefined, fromEnv: string | undefined): string {
  if (file) return fs.readFileSync(file, "utf8").trim();
  if (fromEnv) return fromEnv;
  const path = "/var/lib/drover/admin-key";
  if (fs.existsSync(path)) return fs.readFileSync(path, "utf8").trim();
  const key = randomBytes(24).toString("base64url");
  fs.mkdirSync("/var/lib/drover", { recursive: true });
  fs.writeFileSync(path, key + "\n", { mode: 0o600 });
  return key;
}
