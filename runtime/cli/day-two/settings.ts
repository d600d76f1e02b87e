/**
 * Where the day-two commands find the server: flags first, then $DROVER_URL and
 * $DROVER_ACCESS_KEY (as Rancher's RANCHER_URL / RANCHER_ACCESS_KEY; $DROVER_API_KEY too),
 * then the config file `drover login` writes ($DROVER_CONFIG, else
 * $XDG_CONFIG_HOME/drover/cli.json or ~/.config/drover/cli.json, mode 0600). The file may
 * also hold the server's CA (PEM), pinned by fingerprint at login, for https with drover's CA.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UsageError } from "../command";
import { CliError, EXIT } from "./cli-error";

export interface CliConfig {
  url: string;
  accessKey: string;
  /** The environment; absent: the one the key belongs to. */
  envId?: string;
  /** PEM of the server's CA, trusted alone for https (pinned at login). */
  ca?: string;
}

export const SETTINGS_OPTIONS = {
  url: { type: "string" },
  "access-key": { type: "string" },
  env: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

export const SETTINGS_USAGE = [
  "  --url URL          drover server (default $DROVER_URL, else `drover login`'s)",
  "  --access-key KEY   the environment's API key (default $DROVER_ACCESS_KEY, else `drover login`'s)",
  "  --env ENVID        the environment (default $DROVER_ENV, else the key's own)",
  "  --json             machine-readable output",
];

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DROVER_CONFIG) return env.DROVER_CONFIG;
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config");
  return path.join(base, "drover", "cli.json");
}

export function readConfigFile(file: string): Partial<CliConfig> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as Partial<CliConfig>;
  } catch {
    throw new CliError(`${file} is not JSON: run \`drover login\` again to rewrite it`);
  }
}

export function writeConfigFile(file: string, config: CliConfig): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

export interface SettingsFlags {
  url?: string;
  "access-key"?: string;
  env?: string;
}

export function resolveSettings(flags: SettingsFlags, env: NodeJS.ProcessEnv = process.env): CliConfig {
  const file = readConfigFile(configPath(env));
  const url = (flags.url ?? env.DROVER_URL ?? file.url ?? "").replace(/\/+$/, "");
  const accessKey = flags["access-key"] ?? env.DROVER_ACCESS_KEY ?? env.DROVER_API_KEY ?? file.accessKey ?? "";
  if (url === "") throw new CliError("no server: give --url, set DROVER_URL, or run `drover login --url URL --access-key KEY`", EXIT.usage);
  if (!/^https?:\/\/[^\s/]+/.test(url)) throw new UsageError(`--url: expected the server's http(s):// URL, got ${JSON.stringify(url)}`);
  if (accessKey === "") throw new CliError("no access key: give --access-key, set DROVER_ACCESS_KEY, or run `drover login`", EXIT.usage);
  // The file's environment belongs to the file's key.
  const fileEnv = accessKey === file.accessKey ? file.envId : undefined;
  const envId = flags.env ?? (env.DROVER_ENV || undefined) ?? fileEnv;
  // The CA pinned at login holds for the URL it was pinned for only.
  const ca = file.ca && file.url === url ? file.ca : undefined;
  return { url, accessKey, ...(envId ? { envId } : {}), ...(ca ? { ca } : {}) };
}
