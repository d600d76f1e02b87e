import type { InstanceRecord, InstanceState, InstanceStatus } from "../protocol/model";

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
  const sameStatus = JSON.stringify(status ?? null) === JSON.stringify(instance.status ?? null);
  if (state === instance.state && sameStatus) return undefined;
  const next: InstanceRecord = { ...instance, state };
  if (status) next.status = status;
  else delete next.status;
  return next;
}
