/**
 * drover events [-f]: the environment's event stream (changes to its resources, every exec).
 * Without -f it prints the events the server keeps and exits once no more arrive for a
 * moment; with -f it keeps following (Ctrl-C ends it).
 */
import { onSseBlocks } from "../protocol/sse-blocks";
import * as http from "http";
import * as https from "https";
import type { Command } from "./command";
import { UsageError } from "./command";
import { refusal } from "./day-two/api-client";
import { CliError, EXIT, runCli } from "./day-two/cli-error";
import { apiFrom, parseCommand } from "./day-two/command-kit";
import { SETTINGS_USAGE } from "./day-two/settings";

/** Without -f: done once the stream has been quiet this long (it is read from its start). */
const CAUGHT_UP_QUIET_MS = 500;

export const eventsCommand: Command = {
  name: "events",
  summary: "show the environment's events (resource changes, execs); -f follows",
  usage: ["usage: drover events [-f] [--since EVENTID] [--json]", "",
    "  -f, --follow      keep printing new events",
    "  --since EVENTID   start after this event id (default: the oldest kept, or only new ones with -f)",
    ...SETTINGS_USAGE].join("\n"),
  run: (argv) => runCli("events", async () => {
    const { values, positionals } = parseCommand(argv, { follow: { type: "boolean", short: "f", default: false }, since: { type: "string" } });
    if (positionals.length) throw new UsageError(`takes no arguments, got ${positionals.join(" ")}`);
    const api = apiFrom(values);
    const since: string | undefined = values.since ?? (values.follow ? undefined : "0-0");
    const url = new URL(api.config.url + await api.envPath("events"));
    if (since) url.searchParams.set("lastEventId", since);
    await new Promise<void>((resolve, reject) => {
      const lib = url.protocol === "https:" ? https : http;
      const req = lib.get(url, {
        headers: { authorization: `Bearer ${api.config.accessKey}`, accept: "text/event-stream" },
        ...(api.config.ca ? { ca: api.config.ca, minVersion: "TLSv1.2" as const } : {}),
      }, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          let text = "";
          res.on("data", (c) => { text += c; });
          res.on("end", () => { let body: unknown = text; try { body = JSON.parse(text); } catch { /* text */ } reject(refusal(res.statusCode ?? 0, body, "GET events")); });
          return;
        }
        let quiet: NodeJS.Timeout | undefined;
        const armQuiet = () => {
          if (values.follow) return;
          clearTimeout(quiet);
          quiet = setTimeout(() => { req.destroy(); resolve(); }, CAUGHT_UP_QUIET_MS);
        };
        armQuiet();
        onSseBlocks(res, (block) => {
          const event = parseBlock(block);
          if (event) {
            printEvent(event, values.json);
            armQuiet();
          }
        });
        res.on("end", () => { clearTimeout(quiet); resolve(); });
        res.on("error", reject);
      });
      req.on("error", (err) => reject(new CliError(`cannot reach ${api.config.url}: ${err.message}`, EXIT.unreachable)));
    });
    return EXIT.ok;
  }),
};

interface SseEvent { id: string; event: string; data: any }

function parseBlock(block: string): SseEvent | undefined {
  let id = "", event = "", data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("id: ")) id = line.slice(4);
    else if (line.startsWith("event: ")) event = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
  }
  if (!id || !data) return undefined;
  try {
    return { id, event, data: JSON.parse(data) };
  } catch {
    return undefined;
  }
}

function printEvent(e: SseEvent, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify({ id: e.id, event: e.event, ...e.data }) + "\n");
    return;
  }
  const at = new Date(Number(e.id.split("-")[0])).toISOString();
  const { type: _t, action: _a, id, envId: _e, rev: _r, resource, ...rest } = e.data;
  const name = resource?.name ? ` (${resource.name})` : "";
  const extra = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
  process.stdout.write(`${at}  ${e.event.padEnd(22)} ${id ?? ""}${name}${extra ? `  ${extra}` : ""}\n`);
}
