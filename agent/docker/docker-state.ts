import { EventEmitter } from "events";
import type { HostDesiredState, HostObservedState } from "../../runtime/protocol/model";
import type { ObservedPart } from "../reconcile";

/**
 * Whether this agent reaches its dockerd, as the observed document reports it. Down when
 * the events stream drops or a Docker call fails as an unreachable engine does; up again when
 * the events stream reconnects. Emits "change" on every flip, so the report goes out at once:
 * the server then leaves the host's instances' health alone until dockerd is back.
 */
export class DockerState extends EventEmitter implements ObservedPart {
  private state: "up" | "down" = "up";
  private since = new Date().toISOString();
  private error?: string;

  up(): void {
    this.set("up");
  }

  down(error: string): void {
    this.set("down", error);
  }

  get isUp(): boolean {
    return this.state === "up";
  }

  apply(_desired: HostDesiredState): void {}

  addTo(observed: HostObservedState): void {
    observed.docker = { state: this.state, since: this.since, ...(this.error ? { error: this.error } : {}) };
  }

  private set(state: "up" | "down", error?: string): void {
    if (state === this.state) return;
    this.state = state;
    this.since = new Date().toISOString();
    this.error = error;
    this.emit("change");
  }
}
