import type { ContainerInspectInfo } from "dockerode";
import type { HostDesiredState, HostNetworkStatus, HostObservedState, InstanceStatus } from "../runtime/protocol/model";

/** An InstanceStatus from `docker inspect` (pure). */
export function statusFromInspect(info: ContainerInspectInfo): InstanceStatus {
  const state = info.State;
  const started = state.StartedAt && !state.StartedAt.startsWith("0001-") ? state.StartedAt : undefined;
  return {
    state: state.Running ? "running" : "exited",
    containerId: info.Id,
    exitCode: state.Running ? undefined : state.ExitCode,
    startedAt: started,
    restartCount: info.RestartCount ?? 0,
  };
}

/**
 * The observed document for one applied generation. Instances are the desired ones only:
 * a container being removed is not reported, an instance without a container is `missing`,
 * and an instance whose action failed is `error` with the reason. `network` is the overlay
 * as the agent last saw it (absent before the host had a network spec).
 */
export function buildObserved(
  desired: HostDesiredState,
  inspected: Map<string, ContainerInspectInfo>,
  errors: Map<string, string>,
  now: Date = new Date(),
  network?: HostNetworkStatus,
): HostObservedState {
  const instances: Record<string, InstanceStatus> = {};
  for (const instance of desired.instances) {
    const info = inspected.get(instance.id);
    const error = errors.get(instance.id);
    const base: InstanceStatus = info ? statusFromInspect(info) : { state: "missing", restartCount: 0 };
    // A running container with an error beside it (its sidekick could not start): shown, not fatal.
    instances[instance.id] = error && base.state !== "running" ? { ...base, state: "error", error } : error ? { ...base, error } : base;
  }
  return { hostId: desired.hostId, appliedGeneration: desired.generation, instances, ...(network ? { network } : {}), reportedAt: now.toISOString() };
}
