/**
 * What the DNS responder knows about an environment: plain data the server derives from
 * Redis (instance records + observed status, services, stacks). The responder never reads
 * Redis itself; the agent hands it a whole new directory on every change.
 */

export interface DnsInstance {
  id: string;
  /** Overlay address: both where this container's queries come from and what others get. */
  ip: string;
  serviceId: string;
  /** The container is running (as the host's agent last observed it). */
  running: boolean;
  /** Health-check verdict; absent when the service has no health check (running suffices). */
  healthy?: boolean;
  /**
   * Being stopped on purpose (InstanceRecord.stopping): DNS no longer hands it out and load
   * balancers drain it (no new connections) until it leaves the directory.
   */
  draining?: boolean;
}

export interface DnsService {
  id: string;
  name: string;
  stackId: string;
  /** Link alias → target service id, as in ServiceSpec.links. */
  links: Record<string, string>;
}

export interface DnsStack {
  id: string;
  name: string;
  /** Every container of the stack may resolve every service of the stack (opt-in). */
  stackWideDiscovery: boolean;
}

export interface DnsDirectory {
  instances: DnsInstance[];
  services: DnsService[];
  stacks: DnsStack[];
}

/** The domain drover answers for: `svc.stack.drover.internal`. */
export const DROVER_DOMAIN = "drover.internal";

/**
 * The environment's DNS document in Redis (EnvKeys.dns), written by the reconciler whenever
 * the directory changes and followed by a `dns` nudge to every host. Agents read it
 * read-only and keep serving the last one they had while Redis is away.
 */
export interface EnvDnsDocument {
  /** Bumped by every write. */
  version: number;
  directory: DnsDirectory;
}
