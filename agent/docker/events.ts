import type Docker from "dockerode";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import { backoffMs, delay } from "../backoff";
import { errorMessage, Logger } from "../log";
import { isOwnContainer } from "../plan";

/** A Docker event about one of this host's drover containers. */
export interface ContainerEvent {
  action: "start" | "die" | "stop" | "destroy";
  containerId: string;
  name: string;
  instanceId?: string;
  exitCode?: number;
}

const actions = ["start", "die", "stop", "destroy"] as const;

/**
 * Follows `docker events` for this host's drover containers (label filters, so other
 * containers' events never reach the agent), reconnecting with backoff if dockerd goes away.
 * `onConnected` runs after every (re)connection: events may have been missed meanwhile.
 */
export class DockerEventWatcher {
  private readonly abort = new AbortController();
  private stream?: NodeJS.ReadableStream & { destroy?: () => void };
  private loop?: Promise<void>;

  constructor(
    private readonly docker: Docker,
    private readonly hostId: string,
    private readonly log: Logger,
    private readonly onEvent: (event: ContainerEvent) => void,
    private readonly onConnected: () => void,
    /** Runs when the stream drops or cannot be opened (dockerd stopping or gone). */
    private readonly onDisconnected: (reason: string) => void = () => {},
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.stream?.destroy?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    for (let attempt = 0; !this.abort.signal.aborted; ) {
      try {
        const stream = (await this.docker.getEvents({
          filters: {
            type: ["container"],
            event: [...actions],
            label: [`${containerLabels.managed}=true`, `${containerLabels.host}=${this.hostId}`],
          },
          abortSignal: this.abort.signal,
        } as Docker.GetEventsOptions)) as NodeJS.ReadableStream & { destroy?: () => void };
        this.stream = stream;
        if (attempt > 0) this.log.info("docker events reconnected");
        attempt = 0;
        this.onConnected();
        await this.consume(stream);
        if (this.abort.signal.aborted) return;
        this.log.warn("docker events stream ended; reconnecting");
        this.onDisconnected("the docker events stream ended");
      } catch (err) {
        if (this.abort.signal.aborted) return;
        const wait = backoffMs(attempt++, 250, 10_000);
        this.log.warn("docker events unavailable; retrying", { reason: errorMessage(err), retryInMs: wait });
        this.onDisconnected(errorMessage(err));
        await delay(wait, this.abort.signal);
      }
    }
  }

  /** Reads newline-separated JSON events until the stream ends. */
  private consume(stream: NodeJS.ReadableStream): Promise<void> {
    return new Promise((resolve) => {
      let buffered = "";
      stream.on("data", (chunk: Buffer | string) => {
        buffered += chunk.toString();
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line) this.handle(line);
        }
      });
      stream.on("end", () => resolve());
      stream.on("close", () => resolve());
      stream.on("error", () => resolve());
    });
  }

  private handle(line: string): void {
    let raw: { Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
    try {
      raw = JSON.parse(line);
    } catch {
      return;
    }
    const attrs = raw.Actor?.Attributes ?? {};
    const action = raw.Action as ContainerEvent["action"];
    // Docker already filtered by label; checked again because nothing else may ever act on a foreign container.
    if (!actions.includes(action) || !isOwnContainer(attrs, this.hostId)) return;
    const exitCode = attrs.exitCode !== undefined ? Number(attrs.exitCode) : undefined;
    this.onEvent({
      action,
      containerId: raw.Actor?.ID ?? "",
      name: attrs.name ?? "",
      instanceId: attrs[containerLabels.instance],
      exitCode: Number.isFinite(exitCode) ? exitCode : undefined,
    });
  }
}
