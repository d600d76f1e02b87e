import { parseRedisUrl, redisAddresses, redisUrlWithoutCredentials } from "../protocol/redis-target";
import { randomBytes } from "crypto";
import * as fs from "fs";
import { isLoopback } from "../protocol/loopback";
import { DEFAULT_BEATS_PER_SECOND } from "../protocol/heartbeat-cadence";

/** Everything `drover server` can be told, from flags or DROVER_* environment variables. */
export interface ServerConfig {
  /** Redis the server uses (may carry credentials). */
  redisUrl: string;
  /** Redis URL handed to agents (no credentials; they get their own ACL user). */
  agentRedisUrl: string;
  /** With a Sentinel URL: replicas each acknowledged write must reach (WAIT) before the API answers. */
  redisWaitReplicas: number;
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
  /** How long one Redis command may go unanswered before it fails as Unavailable (server.ts). */
  redisCommandTimeoutMs: number;
  /** An environment's hosts beat at most this many times a second together (protocol/heartbeat-cadence.ts). */
  heartbeatsPerSecond: number;
  resyncIntervalMs: number;
  tickMs: number;
  leaseTtlMs: number;
  /** Where the CA (and nothing else of value) is kept: ca.pem, ca-key.pem (0600). */
  tlsDir: string;
  /** Serve the API over HTTPS only (--api-tls on; auto: unless it listens on loopback; default off). */
  apiTls: boolean;
  /** The operator's API certificate and key (PEM files), instead of one from drover's CA. */
  apiCertFile?: string;
  apiKeyFile?: string;
  /** Extra names and addresses for the API certificate (a DNS name agents use, a NAT address). */
  apiNames: string[];
  /** This server's own URL as agents reach it (logs/exec streams dial it); default: the listen address unless a wildcard. */
  advertiseUrl?: string;
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
  "lease-ttl"?: string;
  "tls-dir"?: string;
  "api-tls"?: string;
  "tls-cert"?: string;
  "tls-key"?: string;
  "tls-san"?: string;
  "redis-wait-replicas"?: string;
  "advertise-url"?: string;
  "heartbeats-per-second"?: string;
  "redis-command-timeout"?: string;
}

function parseBeatsPerSecond(text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new Error(`--heartbeats-per-second: expected a whole number of beats per second (1 or more), got ${JSON.stringify(text)}`);
  return Number(text);
}

function parseWaitReplicas(text: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`--redis-wait-replicas: expected a number of replicas (0 or more), got ${JSON.stringify(text)}`);
  return Number(text);
}

export function resolveServerConfig(flags: ServerFlags, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const redisUrl = flags.redis ?? env.DROVER_REDIS ?? "redis://127.0.0.1:6379";
  parseRedisUrl(redisUrl, "--redis");
  const listen = flags.listen ?? env.DROVER_LISTEN ?? "127.0.0.1:8080";
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new Error(`--listen: expected HOST:PORT, got ${JSON.stringify(listen)}`);
  const graceText = flags["disconnect-grace"] ?? env.DROVER_DISCONNECT_GRACE ?? "30s";
  const listenHost = m[1] || "127.0.0.1";
  const apiTlsText = flags["api-tls"] ?? env.DROVER_API_TLS ?? "auto";
  if (!["off", "on", "auto"].includes(apiTlsText)) throw new Error(`--api-tls: expected off, on or auto, got ${JSON.stringify(apiTlsText)}`);
  // auto is the default: HTTPS as soon as the API listens where another machine can reach
  // it; the single-machine case (everything on loopback) has no network hop to protect.
  const apiTls = apiTlsText === "on" || (apiTlsText === "auto" && !isLoopback(listenHost));
  const agentRedisUrl = flags["agent-redis"] ?? env.DROVER_AGENT_REDIS ?? stripCredentials(redisUrl);
  if (apiTls) checkAgentRedisUrl(agentRedisUrl);
  const apiCertFile = flags["tls-cert"] ?? env.DROVER_TLS_CERT;
  const apiKeyFile = flags["tls-key"] ?? env.DROVER_TLS_KEY;
  if ((apiCertFile === undefined) !== (apiKeyFile === undefined)) throw new Error("--tls-cert and --tls-key go together: the API certificate and its key");
  if (apiCertFile !== undefined && !apiTls) throw new Error("--tls-cert: the API serves plain HTTP (--api-tls off); give --api-tls on to serve it");
  return {
    redisUrl,
    agentRedisUrl,
    redisWaitReplicas: parseWaitReplicas(flags["redis-wait-replicas"] ?? env.DROVER_REDIS_WAIT_REPLICAS ?? "1"),
    keyPrefix: flags["key-prefix"] ?? env.DROVER_KEY_PREFIX ?? "drover",
    listenHost,
    listenPort: Number(m[2]),
    adminKey: readAdminKey(flags["admin-key-file"] ?? env.DROVER_ADMIN_KEY_FILE, env.DROVER_ADMIN_KEY),
    masterKeyFile: flags["master-key-file"] ?? env.DROVER_MASTER_KEY_FILE ?? "/var/lib/drover/master-key",
    serverId: flags["server-id"] ?? env.DROVER_SERVER_ID ?? `srv-${randomBytes(4).toString("hex")}`,
    disconnectGraceMs: parseDuration(graceText, "--disconnect-grace"),
    heartbeatIntervalMs: 1000,
    heartbeatTtlMs: 3500,
    redisCommandTimeoutMs: parseCommandTimeout(flags["redis-command-timeout"] ?? env.DROVER_REDIS_COMMAND_TIMEOUT ?? "30s"),
    heartbeatsPerSecond: parseBeatsPerSecond(flags["heartbeats-per-second"] ?? env.DROVER_HEARTBEATS_PER_SECOND ?? String(DEFAULT_BEATS_PER_SECOND)),
    resyncIntervalMs: 30_000,
    tickMs: 500,
    // How long an environment's leadership outlives a silent server. Its reconcile passes must
    // fit well within it: with tens of thousands of instances per environment on a busy
    // machine, 5 s made leadership move back and forth (bench scale); raise it there.
    leaseTtlMs: parseLeaseTtl(flags["lease-ttl"] ?? env.DROVER_LEASE_TTL ?? "5s"),
    tlsDir: flags["tls-dir"] ?? env.DROVER_TLS_DIR ?? "/var/lib/drover/tls",
    apiTls,
    ...(apiCertFile !== undefined ? { apiCertFile, apiKeyFile } : {}),
    apiNames: (flags["tls-san"] ?? env.DROVER_TLS_SAN ?? "").split(",").map((s) => s.trim()).filter(Boolean),
    ...advertiseUrlOf(flags["advertise-url"] ?? env.DROVER_ADVERTISE_URL, apiTls),
  };
}

/**
 * --advertise-url: where agents reach THIS server, for the logs/exec streams it holds (with
 * several servers behind one address, an agent dials the server that holds the session). A
 * server listening on 0.0.0.0 or :: cannot name itself without it.
 */
function advertiseUrlOf(text: string | undefined, apiTls: boolean): { advertiseUrl?: string } {
  if (text === undefined || text === "") return {};
  let url: URL;
  try { url = new URL(text); } catch { url = new URL("invalid:"); }
  const ok = (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "" && (url.pathname === "/" || url.pathname === "") && !url.search && !url.hash && !url.username;
  if (!ok) throw new Error(`--advertise-url: expected http(s)://HOST[:PORT] with no path, got ${JSON.stringify(text)}`);
  if (apiTls && url.protocol !== "https:") throw new Error(`--advertise-url: the API serves HTTPS (--api-tls), so agents must dial https://, got ${JSON.stringify(text)}`);
  return { advertiseUrl: url.origin };
}

/**
 * Agents send their Redis password on connect: with the API on TLS, handing them a plaintext
 * Redis across a network would undo it. A plain redis:// URL is accepted then only for a
 * loopback address (agents on this machine).
 */
export function checkAgentRedisUrl(url: string): void {
  const target = parseRedisUrl(url, "--agent-redis");
  if (target.tls) return;
  if (!redisAddresses(target).every(isLoopback)) {
    throw new Error(`--agent-redis: ${url} would have agents on other machines send their Redis passwords in the clear; ` +
      "give a rediss:// URL (Redis with --tls-port and a certificate from `drover tls redis-cert`), or a loopback address for agents on this machine only");
  }
}

/** At least 2 s: a Sentinel server's replica WAIT may take 1 s by itself (blocking reads have no bound: BLOCK bounds them). */
function parseCommandTimeout(text: string): number {
  const ms = parseDuration(text, "--redis-command-timeout");
  if (ms < 2000) throw new Error(`--redis-command-timeout: expected at least 2s (a replica WAIT alone may take 1s), got ${JSON.stringify(text)}`);
  return ms;
}

function parseLeaseTtl(text: string): number {
  const ms = parseDuration(text, "--lease-ttl");
  if (ms < 1000) throw new Error(`--lease-ttl: expected at least 1s (the lease is renewed every third of it), got ${JSON.stringify(text)}`);
  return ms;
}

/** `30s`, `1500ms`, `2m` or a bare number of milliseconds. */
export function parseDuration(text: string, field: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`${field}: expected a duration like 30s, 1500ms or 2m, got ${JSON.stringify(text)}`);
  const n = Number(m[1]);
  return Math.round(m[2] === "s" ? n * 1000 : m[2] === "m" ? n * 60_000 : n);
}

function stripCredentials(url: string): string {
  return redisUrlWithoutCredentials(url);
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
