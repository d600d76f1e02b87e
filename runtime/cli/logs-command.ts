/**
 * drover logs [-f] [--tail N] SERVICE|INSTANCE: a container's logs streamed from the agent of
 * its host through the server. A service's instances are interleaved line by line, each line
 * prefixed with its instance like `docker compose logs`; with -f, instances that replace or
 * add to the service are followed too, from their first line.
 */
import type WebSocket from "ws";
import type { Command } from "./command";
import { UsageError } from "./command";
import { CliError, EXIT, runCli } from "./day-two/cli-error";
import { apiFrom, parseCommand } from "./day-two/command-kit";
import { LinePrefixer } from "./day-two/line-prefixer";
import { SETTINGS_USAGE } from "./day-two/settings";
import { parseSince } from "./day-two/time-arg";

/** How often a followed service's instance list is read again for replacements. */
const FOLLOW_POLL_MS = 1000;

export const logsCommand: Command = {
  name: "logs",
  summary: "show (-f: follow) the logs of an instance or of all of a service's instances",
  usage: ["usage: drover logs [-f] [--tail N] [--since TIME] [-t] [--json] SERVICE|INSTANCE", "",
    "  -f, --follow       keep streaming new lines (and a service's new instances)",
    "  --tail N           only the last N lines of each container",
    "  --since TIME       lines since an RFC 3339 time, Unix seconds or a duration ago (10m, 2h)",
    "  -t, --timestamps   prefix each line with Docker's timestamp",
    "  --json             one JSON object per line: {instance, stream, line}",
    ...SETTINGS_USAGE].join("\n"),
  run: (argv) => runCli("logs", async () => {
    const { values, positionals } = parseCommand(argv, {
      follow: { type: "boolean", short: "f", default: false }, tail: { type: "string" }, since: { type: "string" },
      timestamps: { type: "boolean", short: "t", default: false },
    });
    if (positionals.length !== 1) throw new UsageError("expected one SERVICE or INSTANCE");
    const tail = values.tail === undefined || values.tail === "all" ? undefined : Number(values.tail);
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new UsageError(`--tail: expected a number of lines (or all), got ${JSON.stringify(values.tail)}`);
    const since = values.since === undefined ? undefined : parseSince(values.since);
    if (values.since !== undefined && since === undefined) throw new UsageError(`--since: expected an RFC 3339 time, Unix seconds or a duration such as 10m, got ${JSON.stringify(values.since)}`);
    const api = apiFrom(values);
    const { resolveTarget, serviceInstances } = await import("./day-two/resolve");
    const { openStream } = await import("./day-two/stream-client");
    const target = await resolveTarget(api, positionals[0]);
    const prefixed = target.service !== undefined;
    const body = { follow: values.follow, timestamps: values.timestamps, ...(tail !== undefined ? { tail } : {}), ...(since !== undefined ? { since } : {}) };
    const width = () => Math.max(0, ...[...seen.values()].map((n) => n.length));
    const seen = new Map<string, string>();
    const open = new Set<WebSocket>();
    let failures = 0;

    // Back-pressure: while stdout is full, no socket is read.
    const write = (stream: NodeJS.WriteStream) => (text: string | Buffer): boolean => {
      const ok = stream.write(text);
      if (!ok) {
        for (const ws of open) ws.pause();
        stream.once("drain", () => { for (const ws of open) ws.resume(); });
      }
      return ok;
    };
    const out = write(process.stdout);
    const err = write(process.stderr);

    const streaming = new Set<string>();
    /** When an instance's stream last ended (Unix s): a container recreated for it is read from then on. */
    const endedAt = new Map<string, number>();
    const follow = async (instance: any, first: boolean): Promise<void> => {
      seen.set(instance.id, instance.name);
      streaming.add(instance.id);
      const resumeAt = endedAt.get(instance.id);
      let ws: WebSocket;
      try {
        // A new instance is read from its first line, whatever --tail asked of the first ones.
        const { tail: _tail, ...rest } = body;
        ws = await openStream(api, instance.id, "logs", first ? body : { ...rest, ...(resumeAt !== undefined ? { since: resumeAt } : {}) });
      } catch (e) {
        if (!(e instanceof CliError)) throw e;
        if (first) process.stderr.write(`drover logs: ${instance.name}: ${e.message}\n`);
        failures++;
        streaming.delete(instance.id);
        endedAt.set(instance.id, Date.now() / 1000);
        return;
      }
      open.add(ws);
      const prefix = () => `${instance.name.padEnd(width())} | `;
      const lines = prefixed && !values.json ? [new LinePrefixer(prefix(), out), new LinePrefixer(prefix(), out)] : undefined;
      const partial = ["", ""];
      await new Promise<void>((resolve) => {
        ws.on("message", (data: Buffer, isBinary) => {
          if (!isBinary) {
            const control = JSON.parse(data.toString("utf8"));
            // Re-opened followers retry quietly (a container being recreated is not there yet).
            if (control.type === "error" && first) {
              process.stderr.write(`drover logs: ${instance.name}: ${control.message}\n`);
              failures++;
            }
            return;
          }
          const channel = data[0];
          const payload = data.subarray(1);
          if (values.json) {
            const i = channel === 2 ? 1 : 0;
            const text = partial[i] + payload.toString("utf8");
            const parts = text.split("\n");
            partial[i] = parts.pop() ?? "";
            out(parts.map((line) => JSON.stringify({ instance: instance.name, instanceId: instance.id, stream: channel === 2 ? "stderr" : "stdout", line }) + "\n").join(""));
          } else if (lines) lines[channel === 2 ? 1 : 0].push(payload);
          else (channel === 2 ? err : out)(payload);
        });
        ws.once("close", () => {
          lines?.forEach((l) => l.flush());
          open.delete(ws);
          streaming.delete(instance.id);
          endedAt.set(instance.id, Date.now() / 1000);
          resolve();
        });
      });
    };

    const streams = target.instances.map((i) => follow(i, true));
    if (target.instances.length === 0 && !values.follow) throw new CliError(`service ${positionals[0]} has no instances`, EXIT.notFound);
    if (values.follow && target.service) {
      // Runs until interrupted: new instances of the service join as they appear.
      for (;;) {
        await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
        const now = await api.list("instances").then((all) => serviceInstances(all, target.service.id), () => []);
        // New instances, and instances whose container ended (a recreated container is followed too).
        for (const i of now) if (!streaming.has(i.id) && i.state === "active") streams.push(follow(i, false));
      }
    }
    await Promise.all(streams);
    return failures ? EXIT.failed : EXIT.ok;
  }),
};
