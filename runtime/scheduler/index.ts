/**
 * drover's scheduler: a pure module (no I/O, no clock, no randomness) that decides which
 * hosts take a service's new instances, with Rancher 1.x's scheduling labels.
 */
export * from "./types";
export { schedule, scheduleAndCommit } from "./schedule";
export { SnapshotIndex, HostSlot, indexSnapshot } from "./snapshot-index";
export { validateSchedulingLabels, assertValidSchedulingLabels, labelField } from "./validate";
export type { SchedulingLabelError } from "./validate";
export { schedulingSpecToLabels, schedulingSpecFromLabels, withSchedulingSpec, validateSchedulingSpec } from "./typed-form";
export type { SchedulingSpec, LabelSelector } from "./typed-form";
export { parseSchedulingLabels } from "./labels";
export { newInstanceLabels, STACK_NAME_LABEL, STACK_SERVICE_NAME_LABEL, SERVICE_ID_LABEL } from "./system-labels";
export { unplaceableError, reasonLines } from "./unplaceable";
export { hostLabelViolations } from "./rules";
export { hostPortsOf } from "./ports";
export { dockerDiskShortage, diskReserveLabelProblem, DOCKER_DISK_RESERVE_LABEL, DEFAULT_DISK_RESERVE } from "./docker-disk";
export type { DockerDiskSpace } from "./docker-disk";
export { GLOBAL_LABEL, KNOWN_SCHEDULER_LABELS, AFFINITY_VARIANTS, affinityLabelKey } from "./label-keys";
