/**
 * A journal of an environment's instance and host changes, read from drover's own event
 * stream (GET /v1/environments/:id/events, server-sent events) while a benchmark runs: what
 * drover said about each instance (state, container, health, each checker's verdict,
 * draining) and when. A benchmark keeps it beside its results so an odd moment (a server
 * leaving HAProxy for no planned reason) can be matched with what drover decided then.
 *
 * The stream carries each record as the server read it when sending (possibly newer than
 * the change itself): the journal is evidence to read, not an exact history.
 */
import * as http from "http";

export interface JournalEntry {
  /** Epoch ms when the event arrived here. */
  t: number;
  /** `instance.updated`, `host.updated`, ... */
  event: string;
  id: string;
  /** Instances: overlay IP, host, state, container state, health, checkers, draining. */
  ip?: string;
  hostId?: string;
  state?: string;
  container?: string;
  health?: string;
  healthReason?: string;
  checkers?: string;
  stopping?: boolean;
  /** Hosts: deactivated flag. */
  deactivated?: boolean;
}

/** One SSE `data:` payload (the resource as GET shows it) reduced to a journal entry (pure). */
export function journalEntry(t: number, event: string, data: any): JournalEntry | undefined {
  const r = data?.resource;
  const kind = String(event).split(".")[0];
  if (kind === "instance") {
    if (r?.kind === "lb") return undefined;
    const checkers = r?.healthCheckers ? Object.entries(r.healthCheckers as Record<string, { state: string }>).map(([h, v]) => `${h}:${v.state}`).join(" ") : undefined;
    return {
      t, event, id: String(data.id),
      ...(r ? {
        ip: r.ip, hostId: r.hostId, state: r.state, container: r.status?.state, health: r.healthState,
        ...(r.healthReason ? { healthReason: r.healthReason } : {}), ...(checkers ? { checkers } : {}), stopping: !!r.stopping,
      } : {}),
    };
  }
  if (kind === "host") return { t, event, id: String(data.id), ...(r ? { state: r.state, deactivated: !!r.deactivated } : {}) };
  return undefined;
}

export class EventJournal {
  readonly entries: JournalEntry[] = [];
  errors = 0;
  private req?: http.ClientRequest;
  private stopped = false;

  private constructor(private readonly url: string, private readonly key: string) {}

  /** Opens the stream (resolves once the server answered 200: later changes are not missed). */
  static start(serverUrl: string, envBase: string, apiKey: string): Promise<EventJournal> {
    const j = new EventJournal(`${serverUrl}${envBase}/events`, apiKey);
    return j.open().then(() => j);
  }

  stop(): void {
    this.stopped = true;
    this.req?.destroy();
  }

  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = http.get(this.url, { headers: { authorization: `Bearer ${this.key}`, accept: "text/event-stream" } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`event stream ${this.url}: HTTP ${res.statusCode}`));
          return;
        }
        resolve();
        let buf = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buf += chunk;
          let end: number;
          while ((end = buf.indexOf("\n\n")) >= 0) {
            this.take(buf.slice(0, end));
            buf = buf.slice(end + 2);
          }
        });
        res.on("error", () => undefined);
      });
      req.on("error", (err) => {
        if (this.stopped) return;
        this.errors++;
        reject(err);
      });
      this.req = req;
    });
  }

  private take(block: string): void {
    let event = "";
    let data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data = line.slice(6);
    }
    if (!event || !data) return;
    try {
      const e = journalEntry(Date.now(), event, JSON.parse(data));
      if (e) this.entries.push(e);
    } catch {
      this.errors++;
    }
  }
}
