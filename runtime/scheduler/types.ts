/**
 * The scheduler's inputs and outputs. Everything here is plain data so a snapshot can be
 * read from Redis, handed over, and replayed in a test with the same answer.
 */

import type { DockerDiskSpace } from "./docker-disk";

/** Rancher's host agent states; only `active` hosts take new instances. */
export type HostState = "active" | "reconnecting" | "disconnected" | (string & {});

export type PortProtocol = "tcp" | "udp";

/** A host port an instance publishes. No `ip` (or 0.0.0.0 / ::) means every address. */
export interface HostPort {
  port: number;
  protocol: PortProtocol;
  ip?: string;
}

/** One container as the scheduler sees it. */
export interface InstanceSnapshot {
  id: string;
  /** The service it belongs to; absent for standalone containers. */
  serviceId?: string;
  /** Container name, matched by the `container` affinity rules. */
  name: string;
  labels: Record<string, string>;
  ports: HostPort[];
}

export interface HostSnapshot {
  id: string;
  name: string;
  labels: Record<string, string>;
  state: HostState;
  instances: InstanceSnapshot[];
  /**
   * Space on the host's Docker data root from its agent's latest stats sample; absent when
   * none was reported (the host is taken as having room). See docker-disk.ts.
   */
  dockerDisk?: DockerDiskSpace;
}

export interface ClusterSnapshot {
  hosts: HostSnapshot[];
}

/** An instance known to be on a host, given apart from a snapshot. */
export interface PlacedInstance extends InstanceSnapshot {
  hostId: string;
}

/** The service whose instances are being placed. */
export interface ServiceToPlace {
  id: string;
  name: string;
  stackName: string;
  /** User labels, including Rancher's `io.rancher.scheduler.*` labels. */
  labels: Record<string, string>;
  /** Host ports each instance publishes. */
  ports: HostPort[];
}

export interface ScheduleRequest {
  service: ServiceToPlace;
  /** How many new instances to place, or one on every eligible host. */
  count: number | "global";
  /**
   * Instances of this service already placed that the snapshot may not show yet (decided
   * earlier in the same reconcile pass, say). Ones the snapshot already holds are ignored.
   */
  placed?: PlacedInstance[];
  /** Ids and names for the new instances, by position; missing ones are made up. */
  newInstances?: Array<{ id?: string; name?: string }>;
}

export interface Placement {
  hostId: string;
  hostName: string;
  /** The instance as the scheduler assumed it (labels and ports it counted on). */
  instance: InstanceSnapshot;
}

/** Why some instances could not be placed: every host, with what stopped it. */
export interface Unplaceable {
  count: number;
  /** Host name → short reasons, e.g. `port 80/tcp in use (instance web-1)`. */
  reasons: Record<string, string[]>;
  /** One line for humans, e.g. for a DroverError message. */
  message: string;
}

export interface ScheduleResult {
  /** False when fewer instances than requested could be placed. */
  ok: boolean;
  placements: Placement[];
  unplaceable?: Unplaceable;
  /** Global services only: eligible-looking hosts left out, and why (not an error). */
  skipped?: Record<string, string[]>;
}

export type Seed = number | string;
