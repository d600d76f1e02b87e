import type { HostObservedState, InstanceRecord, InstanceState, InstanceStatus, LoadBalancerInstanceStatus } from "../protocol/model";
import { sameJson } from "./same-json";

/**
 * Rancher's instance state from what the host's agent last reported. An instance the agent
 * has not reported yet is `activating`. Pure.
 */
export function instanceStateFrom(status: InstanceStatus | undefined): InstanceState {
  switch (status?.state) {
    case "running": return "active";
    case "exited": return "stopped";
    case "error": return "error";
    default: return "activating";
  }
}

/** The instance with its observed status applied, or undefined when nothing changed. */
export function withObservedStatus(instance: InstanceRecord, status: InstanceStatus | undefined): InstanceRecord | undefined {
  const state = instanceStateFrom(status);
  // Compared in place, not as two JSON texts: every pass does this for every instance.
  const sameStatus = sameJson(status ?? null, instance.status ?? null);
  if (state === instance.state && sameStatus) return undefined;
  const next: InstanceRecord = { ...instance, state };
  if (status) next.status = status;
  else delete next.status;
  return next;
}

/**
 * What the instance's host reported for it: a container's status, or for a load balancer
 * instance its HAProxy's, in the same terms (running, starting, or an error).
 */
export function statusOf(instance: InstanceRecord, observed: HostObservedState | undefined): InstanceStatus | undefined {
  if (instance.kind !== "lb") return observed?.instances[instance.id];
  const lb = observed?.loadBalancers?.[instance.id];
  return lb ? lbStatus(lb) : undefined;
}

function lbStatus(lb: LoadBalancerInstanceStatus): InstanceStatus {
  // A refused config leaves the previous one serving: still running, the error is the load balancer's to show.
  const state: InstanceStatus["state"] = lb.state === "running" ? "running" : lb.state === "error" ? "error" : lb.state === "stopped" ? "exited" : "creating";
  return { state, startedAt: lb.since, restartCount: 0, ...(lb.error && state === "error" ? { error: lb.error } : {}) };
}
