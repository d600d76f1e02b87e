/**
 * A dockerd's container events over a past time window (GET /events with since and until),
 * read after a round so nothing listens while it runs: the benchmarks take the moments a
 * container died, started and changed health from the engine's own clock (the same machine
 * clock as Date.now()), on drover's host and on Swarm's alike.
 */
import type Docker from "dockerode";

export interface ContainerEvent {
  /** Epoch milliseconds (from the event's timeNano). */
  at: number;
  /** "create", "start", "die", "kill", "destroy", "health_status: healthy", "exec_die", ... */
  action: string;
  containerId: string;
  attributes: Record<string, string>;
}

interface RawEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

/**
 * Container events from `fromMs` to `toMs` (epoch ms), oldest first. dockerd takes whole
 * seconds and holds the answer until `until` has passed, so this may wait up to a second.
 */
export async function containerEvents(docker: Docker, fromMs: number, toMs: number): Promise<ContainerEvent[]> {
  const stream = await docker.getEvents({
    since: Math.floor(fromMs / 1000),
    until: Math.ceil(toMs / 1000),
    filters: { type: ["container"] },
  }) as NodeJS.ReadableStream;
  let text = "";
  for await (const chunk of stream) text += typeof chunk === "string" ? chunk : (chunk as Buffer).toString("utf8");
  const events: ContainerEvent[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const raw = JSON.parse(line) as RawEvent;
    const at = raw.timeNano !== undefined ? raw.timeNano / 1e6 : (raw.time ?? 0) * 1000;
    if (at < fromMs || at > toMs || !raw.Action || !raw.Actor?.ID) continue;
    events.push({ at, action: raw.Action, containerId: raw.Actor.ID, attributes: raw.Actor.Attributes ?? {} });
  }
  return events.sort((a, b) => a.at - b.at);
}

/** The first event of `containerId` whose action starts with `action`, at or after `afterMs`. */
export function firstEvent(events: ContainerEvent[], containerId: string, action: string, afterMs = 0): ContainerEvent | undefined {
  return events.find((e) => e.containerId === containerId && e.action.startsWith(action) && e.at >= afterMs);
}
