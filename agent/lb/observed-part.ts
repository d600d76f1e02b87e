import type { HostDesiredState, HostObservedState } from "../../runtime/protocol/model";
import type { ObservedPart } from "../reconcile";
import type { LoadBalancers } from "./index";

/** The host's HAProxies as a part of the agent's reconcile: instances from the desired document, their status into the observed one. */
export class LoadBalancerPart implements ObservedPart {
  constructor(private readonly lbs: LoadBalancers) {}

  apply(desired: HostDesiredState): Promise<void> {
    return this.lbs.apply(desired.loadBalancers ?? [], desired.network);
  }

  addTo(observed: HostObservedState): void {
    const status = this.lbs.status();
    if (Object.keys(status).length > 0) observed.loadBalancers = status;
    else delete observed.loadBalancers;
  }
}
