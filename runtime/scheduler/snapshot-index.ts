/**
 * A snapshot turned into per-host counters, so a rule check is a few map look-ups instead
 * of a scan over the host's containers. Built once with indexSnapshot(); the caller keeps
 * it current with addInstance/removeInstance/upsertHost as it places many instances.
 * Matching is case-insensitive (Rancher lowercased rule values), so keys here are lowercased.
 */
import { DroverError } from "../protocol/errors";
import { dockerDiskShortage, type DockerDiskSpace } from "./docker-disk";
import { PortUsage } from "./ports";
import { hashString } from "./seed";
import type { ClusterSnapshot, HostSnapshot, HostState, InstanceSnapshot } from "./types";

/** How a container label `k=v` is keyed: lowercased, joined by NUL so keys with "=" stay unambiguous. */
export function labelPairKey(key: string, value: string): string {
  return `${key.toLowerCase()}\u0000${String(value).toLowerCase()}`;
}

/** Keys an instance contributes to its host's counters; shareable between instances of a service. */
export interface InstanceKeys {
  labelPairs: readonly string[];
  /** Lowercased name and id: `container` rules match either (as Rancher matched name or uuid). */
  names: readonly string[];
}

export function labelPairsOf(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([k, v]) => labelPairKey(k, v));
}

export function instanceKeys(instance: InstanceSnapshot, labelPairs: readonly string[] = labelPairsOf(instance.labels)): InstanceKeys {
  const names = [instance.id.toLowerCase()];
  const name = instance.name.toLowerCase();
  if (name !== "" && name !== names[0]) names.push(name);
  return { labelPairs, names };
}

export interface IndexedInstance {
  instance: InstanceSnapshot;
  host: HostSlot;
  keys: InstanceKeys;
}

/** One host and the counters the rules read. */
export class HostSlot {
  name: string;
  state: HostState;
  labels: Record<string, string> = {};
  /** Lowercased host label key → lowercased value. */
  labelIndex = new Map<string, string>();
  /** The data root's space as reported (docker-disk.ts); kept to re-judge when labels change. */
  dockerDisk?: DockerDiskSpace;
  /** Why the host takes no new instance for its disk, or undefined when it has room. */
  diskShortage?: string;
  /** Position in SnapshotIndex.hosts (snapshot order). */
  position: number;
  readonly idHash: number;
  readonly instances = new Map<string, IndexedInstance>();
  readonly containerLabels = new Map<string, number>();
  /**
   * Built on first use: only `container` rules (by name or id) read it, and every instance
   * has names of its own, so keeping it current for every placement would grow one map entry
   * per instance for nothing in the common case (the cost showed at 100,000 instances).
   */
  private names?: Map<string, number>;
  readonly serviceCounts = new Map<string, number>();
  readonly ports = new PortUsage();
  total = 0;

  constructor(readonly id: string, name: string, state: HostState, labels: Record<string, string>, position: number) {
    this.name = name;
    this.state = state;
    this.position = position;
    this.idHash = hashString(id);
    this.setLabels(labels);
  }

  setLabels(labels: Record<string, string>): void {
    this.labels = { ...labels };
    this.labelIndex = new Map(Object.entries(labels).map(([k, v]) => [k.toLowerCase(), String(v).toLowerCase()]));
    this.diskShortage = dockerDiskShortage(this.dockerDisk, this.labels);
  }

  /** A new figure from the host's agent (undefined: none reported). */
  setDockerDisk(disk: DockerDiskSpace | undefined): void {
    this.dockerDisk = disk;
    this.diskShortage = dockerDiskShortage(disk, this.labels);
  }

  countOfService(serviceId: string): number {
    return this.serviceCounts.get(serviceId) ?? 0;
  }

  /** Lowercased instance name or id → instances of this host known by it. */
  get containerNames(): ReadonlyMap<string, number> {
    if (!this.names) {
      this.names = new Map();
      for (const entry of this.instances.values()) for (const name of entry.keys.names) increment(this.names, name);
    }
    return this.names;
  }

  /** Keeps the name counts current once built (SnapshotIndex.addInstance/removeInstance). */
  nameAdded(names: readonly string[]): void {
    if (this.names) for (const name of names) increment(this.names, name);
  }

  nameRemoved(names: readonly string[]): void {
    if (this.names) for (const name of names) decrement(this.names, name);
  }
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 0) - 1;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}

export class SnapshotIndex {
  readonly hosts: HostSlot[] = [];
  private readonly hostById = new Map<string, HostSlot>();
  private readonly instanceById = new Map<string, IndexedInstance>();

  host(id: string): HostSlot | undefined {
    return this.hostById.get(id);
  }

  hasInstance(id: string): boolean {
    return this.instanceById.has(id);
  }

  get instanceCount(): number {
    return this.instanceById.size;
  }

  /** Adds a host, or updates its name, state, labels and disk figure; instances listed are added if new. */
  upsertHost(host: HostSnapshot): HostSlot {
    let slot = this.hostById.get(host.id);
    if (slot) {
      slot.name = host.name;
      slot.state = host.state;
      slot.setLabels(host.labels);
    } else {
      slot = new HostSlot(host.id, host.name, host.state, host.labels, this.hosts.length);
      this.hosts.push(slot);
      this.hostById.set(host.id, slot);
    }
    slot.setDockerDisk(host.dockerDisk);
    for (const instance of host.instances) if (!this.instanceById.has(instance.id)) this.addInstance(host.id, instance);
    return slot;
  }

  /** Forgets a host and every instance on it. */
  removeHost(id: string): boolean {
    const slot = this.hostById.get(id);
    if (!slot) return false;
    for (const instanceId of [...slot.instances.keys()]) this.instanceById.delete(instanceId);
    this.hosts.splice(slot.position, 1);
    this.hostById.delete(id);
    this.hosts.forEach((h, i) => (h.position = i));
    return true;
  }

  setHostState(id: string, state: HostState): void {
    this.requireHost(id).state = state;
  }

  setHostLabels(id: string, labels: Record<string, string>): void {
    this.requireHost(id).setLabels(labels);
  }

  addInstance(hostId: string, instance: InstanceSnapshot, keys: InstanceKeys = instanceKeys(instance)): IndexedInstance {
    const slot = this.requireHost(hostId);
    if (this.instanceById.has(instance.id)) {
      throw new DroverError("Conflict", `scheduler index: instance ${instance.id} is already on host ${this.instanceById.get(instance.id)!.host.name}`);
    }
    const entry: IndexedInstance = { instance, host: slot, keys };
    this.instanceById.set(instance.id, entry);
    slot.instances.set(instance.id, entry);
    for (const pair of keys.labelPairs) increment(slot.containerLabels, pair);
    slot.nameAdded(keys.names);
    if (instance.serviceId !== undefined) increment(slot.serviceCounts, instance.serviceId);
    for (const p of instance.ports) slot.ports.add(p);
    slot.total++;
    return entry;
  }

  removeInstance(id: string): boolean {
    const entry = this.instanceById.get(id);
    if (!entry) return false;
    const { instance, host: slot, keys } = entry;
    this.instanceById.delete(id);
    slot.instances.delete(id);
    for (const pair of keys.labelPairs) decrement(slot.containerLabels, pair);
    slot.nameRemoved(keys.names);
    if (instance.serviceId !== undefined) decrement(slot.serviceCounts, instance.serviceId);
    for (const p of instance.ports) slot.ports.remove(p);
    slot.total--;
    return true;
  }

  private requireHost(id: string): HostSlot {
    const slot = this.hostById.get(id);
    if (!slot) throw new DroverError("NotFound", `scheduler index: no host ${id}`);
    return slot;
  }
}

export function indexSnapshot(snapshot: ClusterSnapshot): SnapshotIndex {
  const index = new SnapshotIndex();
  for (const host of snapshot.hosts) {
    if (index.host(host.id)) throw new DroverError("Conflict", `scheduler snapshot lists host ${host.id} twice`);
    index.upsertHost(host);
  }
  return index;
}
