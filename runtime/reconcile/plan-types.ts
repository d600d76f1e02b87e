import type { HostDesiredState, HostObservedState } from "../protocol/model";
import type { EnvSnapshot, WriteBatch } from "../store/store";

/** Everything the planner reads; gathered by the reconciler in one pass. */
export interface PlanInput {
  snapshot: EnvSnapshot;
  /** Heartbeat key PTTL per host id (undefined = no heartbeat). */
  heartbeats: Record<string, number | undefined>;
  observed: Record<string, HostObservedState | undefined>;
  /** The desired documents as stored now, to write only those that change. */
  desired: Record<string, HostDesiredState | undefined>;
  /** Hosts whose agent has reported `teardown-done`. */
  teardownDone: Record<string, boolean>;
  now: number;
  seed: number;
  graceMs: number;
  /** Makes ids for new instances (random in production, predictable in tests). */
  newId: () => string;
}

export interface Plan {
  batch: Required<WriteBatch>;
  /** Desired documents to write (generation is assigned by the store). */
  desired: { hostId: string; instances: HostDesiredState["instances"] }[];
  /** Hosts to send a teardown nudge to. */
  teardownHosts: string[];
  /** Hosts whose record is removed in this batch: their ACL users go too. */
  removedHosts: string[];
  /** The environment is torn down on every host: purge its keys. */
  purge: boolean;
}
