/**
 * drover's event stream (GET /v1/environments/:id/events, server-sent events) recorded for
 * the length of a benchmark. An event's id is its Redis stream entry id, `<ms>-<seq>`: the
 * server's clock at the write, so it dates a transition even when the record is gone by the
 * time the event is sent (a sick instance's "unhealthy" update is followed within
 * milliseconds by its removal, and GET can no longer show it).
 */
import { onSseBlocks } from "../../runtime/protocol/sse-blocks";
import * as http from "http";

export interface EnvEvent {
  /** Epoch ms from the event id. */
  at: number;
  /** `<type>.<action>`, e.g. `instance.updated`. */
  name: string;
  /** The record's id. */
  id?: string;
  /** The record as GET showed it when the event was sent (absent once removed). */
  resource?: Record<string, any>;
}

export class EnvEventLog {
  readonly events: EnvEvent[] = [];
  private req?: http.ClientRequest;
  private closed = false;

  private constructor() {}

  /** Opens the stream; resolves once the server answered 200 (later changes are all seen). */
  static open(baseUrl: string, envId: string, apiKey: string): Promise<EnvEventLog> {
    const log = new EnvEventLog();
    return new Promise((resolve, reject) => {
      const req = http.request(`${baseUrl}/v1/environments/${envId}/events`, {
        headers: { authorization: `Bearer ${apiKey}`, accept: "text/event-stream" },
      }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`event stream: HTTP ${res.statusCode}`));
          return;
        }
        onSseBlocks(res, (block) => log.take(block));
        res.on("error", () => undefined);
        resolve(log);
      });
      req.on("error", (err) => { if (!log.closed) reject(err); });
      req.end();
      log.req = req;
    });
  }

  private take(block: string): void {
    let idText: string | undefined;
    let name = "";
    let data: any;
    for (const line of block.split("\n")) {
      if (line.startsWith("id: ")) idText = line.slice(4);
      else if (line.startsWith("event: ")) name = line.slice(7);
      else if (line.startsWith("data: ")) data = JSON.parse(line.slice(6));
    }
    if (!idText || !name) return; // a comment (keep-alive) or the retry hint
    this.events.push({ at: Number(idText.split("-")[0]), name, id: data?.id, ...(data?.resource ? { resource: data.resource } : {}) });
  }

  /** Events about record `id`, oldest first. */
  about(id: string): EnvEvent[] {
    return this.events.filter((e) => e.id === id);
  }

  close(): void {
    this.closed = true;
    this.req?.destroy();
  }
}
