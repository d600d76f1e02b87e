/**
 * IPAM inside a reconcile pass: subnets for hosts that lack one, addresses for the
 * instances the pass creates. Both only ever add: an existing host's subnet or instance's
 * address never changes, and a freed one is free once its record is gone.
 */
import { AddressPool, SubnetPool } from "../ipam";
import type { HostRecord, InstanceRecord, NetworkSpec } from "../protocol/model";

export interface HostSubnets {
  /** The hosts, those given a subnet as new records (the rest unchanged, same objects). */
  hosts: HostRecord[];
  /** Host id → why it has no subnet (the network is full), for the instances placed there. */
  missing: Map<string, string>;
}

/** Hosts that still need a subnet; one being removed does not, it is going away. */
function needsSubnet(h: HostRecord): boolean {
  return !h.subnet && h.state !== "removing" && h.state !== "removed";
}

export function assignHostSubnets(network: NetworkSpec, hosts: HostRecord[]): HostSubnets {
  const missing = new Map<string, string>();
  const needing = hosts.filter(needsSubnet);
  if (needing.length === 0) return { hosts, missing };
  // Oldest host first, so the outcome does not depend on the order the store lists hosts.
  needing.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const pool = new SubnetPool(network, hosts.flatMap((h) => (h.subnet ? [h.subnet] : [])));
  const given = new Map<string, string>();
  for (const h of needing) {
    const r = pool.take(h.name);
    if (r.ok) given.set(h.id, r.value);
    else missing.set(h.id, r.error.message);
  }
  return { hosts: hosts.map((h) => (given.has(h.id) ? { ...h, subnet: given.get(h.id)! } : h)), missing };
}

/** Addresses for new instances, unique across the environment and within the pass. */
export class InstanceAddresses {
  private pool?: AddressPool;
  private readonly hostById: Map<string, HostRecord>;

  constructor(hosts: HostRecord[], private readonly instances: InstanceRecord[], private readonly missing: Map<string, string>) {
    this.hostById = new Map(hosts.map((h) => [h.id, h]));
  }

  /** An address on `hostId`, or why there is none (for the service's message). */
  take(hostId: string): { ip: string } | { reason: string } {
    const host = this.hostById.get(hostId);
    if (!host?.subnet) return { reason: this.missing.get(hostId) ?? `host ${host?.name ?? hostId} has no subnet` };
    // Built on first use: a pass that creates nothing pays nothing. Every instance record
    // still present holds its address, removed-this-pass ones included (their containers
    // may still run until the agent catches up).
    this.pool ??= new AddressPool(this.instances.flatMap((i) => (i.ip ? [i.ip] : [])));
    const r = this.pool.take(host.subnet, host.name);
    return r.ok ? { ip: r.value } : { reason: r.error.message };
  }
}
