/** What every day-two command shares: the settings flags, the client, JSON or text output. */
import { parseArgs, type ParseArgsConfig } from "util";
import { DroverApi } from "./api-client";
import { resolveSettings, SETTINGS_OPTIONS } from "./settings";

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface ParsedCommand {
  values: Record<string, any>;
  positionals: string[];
}

export function parseCommand(argv: string[], options: Options): ParsedCommand {
  return parseArgs({ args: argv, options: { ...SETTINGS_OPTIONS, ...options }, allowPositionals: true, strict: true }) as ParsedCommand;
}

export function apiFrom(values: { url?: unknown; "access-key"?: unknown; env?: unknown }): DroverApi {
  return new DroverApi(resolveSettings(values as { url?: string; "access-key"?: string; env?: string }));
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}
