/**
 * A dockerd's container events, recorded live over a round: the benchmarks take the moments a
 * container was created, started, died and changed health from the engine's own clock (the
 * same machine clock as Date.now()), on drover's host and on Swarm's alike.
 *
 * Live, not read back afterwards with since/until: dockerd keeps only its last 256 events for
 * such queries, and Docker's health checks are execs (three events each, per container, every
 * interval), so on Swarm's host a round's early events are gone by its end. The stream is
 * filtered on the daemon's side to the actions read here (no exec_* events).
 */
import type Docker from "dockerode";

export interface ContainerEvent {
  /** Epoch milliseconds (from the event's timeNano). */
  at: number;
  /** "create", "start", "die", "kill", "destroy", "health_status: healthy", ... */
  action: string;
  containerId: string;
  /** The container's labels, name and image, as dockerd attaches them to the event. */
  attributes: Record<string, string>;
}

interface RawEvent {
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

/** The actions recorded; `health_status` matches `health_status: healthy` and `: unhealthy` on dockerd's side. */
const ACTIONS = ["create", "start", "kill", "die", "destroy", "health_status"];

export class ContainerEventRecorder {
  private readonly events: ContainerEvent[] = [];
  private buffer = "";

  private constructor(private readonly stream: NodeJS.ReadableStream & { destroy?: () => void }) {
    stream.on("data", (chunk: Buffer | string) => this.take(typeof chunk === "string" ? chunk : chunk.toString("utf8")));
    stream.on("error", () => undefined); // destroyed on stop
  }

  /** Subscribes; resolves once dockerd answered, so every later event is seen. */
  static async start(docker: Docker): Promise<ContainerEventRecorder> {
    const stream = (await docker.getEvents({ filters: { type: ["container"], event: ACTIONS } })) as NodeJS.ReadableStream;
    return new ContainerEventRecorder(stream);
  }

  private take(text: string): void {
    this.buffer += text;
    let end: number;
    while ((end = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, end).trim();
      this.buffer = this.buffer.slice(end + 1);
      if (!line) continue;
      const raw = JSON.parse(line) as RawEvent;
      if (!raw.Action || !raw.Actor?.ID) continue;
      const at = raw.timeNano !== undefined ? raw.timeNano / 1e6 : (raw.time ?? 0) * 1000;
      this.events.push({ at, action: raw.Action, containerId: raw.Actor.ID, attributes: raw.Actor.Attributes ?? {} });
    }
  }

  /** Events so far, oldest first. */
  get seen(): ContainerEvent[] {
    return [...this.events].sort((a, b) => a.at - b.at);
  }

  /** Ends the subscription; the events recorded, oldest first. */
  stop(): ContainerEvent[] {
    this.stream.destroy?.();
    return this.seen;
  }
}

/** The first event of `containerId` whose action starts with `action`, at or after `afterMs`. */
export function firstEvent(events: ContainerEvent[], containerId: string, action: string, afterMs = 0): ContainerEvent | undefined {
  return events.find((e) => e.containerId === containerId && e.action.startsWith(action) && e.at >= afterMs);
}
