import type { HostDesiredState, HostObservedState } from "../../runtime/protocol/model";
import { errorMessage, type Logger } from "../log";
import type { ObservedPart } from "../reconcile";
import type { HealthChecker } from "./checker";

/** The checker as a part of the agent's reconcile: targets from the desired document, verdicts into the observed one. */
export class HealthPart implements ObservedPart {
  constructor(private readonly checker: HealthChecker, private readonly log: Logger) {}

  apply(desired: HostDesiredState): void {
    try {
      this.checker.setTargets(desired.checks ?? []);
    } catch (err) {
      // A bad list is refused whole; the checks already running keep running.
      this.log.error("health checks refused; the previous ones keep running", { generation: desired.generation, reason: errorMessage(err) });
    }
  }

  addTo(observed: HostObservedState): void {
    const verdicts = this.checker.verdicts();
    if (Object.keys(verdicts).length > 0) observed.health = verdicts;
    else delete observed.health;
  }
}
