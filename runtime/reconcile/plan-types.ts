import type { HeartbeatBudget } from "../protocol/heartbeat-cadence";
import type { DnsDirectory, EnvDnsDocument } from "../protocol/dns";
import type { HostDesiredState, HostObservedState, IpsecSpec } from "../protocol/model";
import type { DockerDiskFigures } from "./cluster-snapshot";
import type { DesiredDoc } from "./desired-docs";
import type { EnvSnapshot, WriteBatch } from "../store/store";

/** Everything the planner reads; gathered by the reconciler in one pass. */
export interface PlanInput {
  snapshot: EnvSnapshot;
  /** Heartbeat key PTTL per host id (undefined = no heartbeat). */
  heartbeats: Record<string, number | undefined>;
  observed: Record<string, HostObservedState | undefined>;
  /** The desired documents as stored now, to write only those that change. */
  desired: Record<string, HostDesiredState | undefined>;
  /**
   * Host id → digest of the desired document known to be stored (pass-cache.ts), for the
   * hosts whose document was not read into `desired`.
   */
  storedDesiredDigests?: Map<string, string>;
  /** The environment's pre-shared key (absent: no overlay yet, hosts get no network spec). */
  ipsec?: IpsecSpec;
  /** The DNS document as stored now, to write it only when the directory changes. */
  dns?: EnvDnsDocument;
  /** Host id → space on its Docker data root (latest stats sample); hosts nearly full take no new instances. */
  dockerDisk?: DockerDiskFigures;
  /** Hosts whose agent has reported `teardown-done`. */
  teardownDone: Record<string, boolean>;
  now: number;
  seed: number;
  graceMs: number;
  /** The hosts' heartbeat cadence and how far it stretches with their number; absent: never stretched. */
  heartbeat?: HeartbeatBudget;
  /** Makes ids for new instances (random in production, predictable in tests). */
  newId: () => string;
}

export interface Plan {
  batch: Required<WriteBatch>;
  /** Desired documents to write (generation is assigned by the store). */
  desired: DesiredDoc[];
  /** Host id → digest of its planned desired document (written or not), for the pass cache. */
  desiredDigests?: Map<string, string>;
  /** The environment's new DNS directory, when it differs from the stored one. */
  dns?: DnsDirectory;
  /** Hosts to send a teardown nudge to. */
  teardownHosts: string[];
  /** Hosts whose record is removed in this batch: their ACL users go too. */
  removedHosts: string[];
  /** The environment is torn down on every host: purge its keys. */
  purge: boolean;
  /**
   * The earliest time the environment needs a pass without any new signal: a health
   * timeout, the end of a drain or a back-off, the next upgrade batch or its deadline.
   */
  wakeAt?: number;
}
