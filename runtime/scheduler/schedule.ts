/**
 * schedule(snapshot, request, seed): where the new instances of a service go, or why they
 * cannot go anywhere. Hard rules filter, soft rules score, spread breaks ties, the seed
 * breaks what is left. Pure: the same inputs always give the same answer.
 */
import { DroverError } from "../protocol/errors";
import { HostQueue } from "./host-queue";
import { CompiledRules, compileRules, explainHost, passesHardRules, softScore, takesNewInstances } from "./rules";
import { seedHash, tieBreakRank } from "./seed";
import { HostSlot, IndexedInstance, InstanceKeys, SnapshotIndex, indexSnapshot, instanceKeys, labelPairsOf } from "./snapshot-index";
import { newInstanceLabels } from "./system-labels";
import type { ClusterSnapshot, InstanceSnapshot, Placement, ScheduleRequest, ScheduleResult, Seed } from "./types";
import { describeUnplaceable } from "./unplaceable";
import { assertValidSchedulingLabels } from "./validate";

/**
 * Places the request's instances without changing `input`: an index passed in is used for
 * the call and left exactly as it was.
 */
export function schedule(input: ClusterSnapshot | SnapshotIndex, request: ScheduleRequest, seed: Seed): ScheduleResult {
  const index = input instanceof SnapshotIndex ? input : indexSnapshot(input);
  return run(index, request, seed, false);
}

/**
 * Like schedule(), but keeps the placements (and the request's `placed` instances) in the
 * index, so the next call sees them. For a caller placing many services in a row.
 */
export function scheduleAndCommit(index: SnapshotIndex, request: ScheduleRequest, seed: Seed): ScheduleResult {
  return run(index, request, seed, true);
}

function run(index: SnapshotIndex, request: ScheduleRequest, seed: Seed, commit: boolean): ScheduleResult {
  const { service } = request;
  assertValidSchedulingLabels(service.labels);
  const rules = compileRules(service);
  const global = request.count === "global" || rules.global;
  if (!global && !(Number.isInteger(request.count) && (request.count as number) >= 0)) {
    throw new DroverError("InvalidField", `scale must be a whole number >= 0 or "global", got ${JSON.stringify(request.count)}`, { field: "scale" });
  }

  // Everything added to the index during the call, so it can be taken back out.
  const added: IndexedInstance[] = [];
  let done = false;
  try {
    for (const p of request.placed ?? []) {
      if (!index.hasInstance(p.id) && index.host(p.hostId)) added.push(index.addInstance(p.hostId, p));
    }
    const maker = instanceMaker(index, request);
    const result = global ? placeGlobal(index, rules, request, maker, added) : placeCount(index, rules, request, request.count as number, seed, maker, added);
    done = true;
    return result;
  } finally {
    // A call that throws (a duplicate instance id, say) never leaves half its placements behind.
    if (!commit || !done) for (let i = added.length - 1; i >= 0; i--) index.removeInstance(added[i].instance.id);
  }
}

type InstanceMaker = (n: number) => { instance: InstanceSnapshot; keys: InstanceKeys };

/**
 * Builds the n-th new instance; the label keys are computed once and shared. Instances the
 * caller did not name get ids `<service>/new-<k>` that are not yet in the index.
 */
function instanceMaker(index: SnapshotIndex, request: ScheduleRequest): InstanceMaker {
  const { service } = request;
  const labels = newInstanceLabels(service);
  const labelPairs = labelPairsOf(labels);
  let synthetic = 0;
  const freshId = (): string => {
    let id: string;
    do id = `${service.id}/new-${++synthetic}`;
    while (index.hasInstance(id));
    return id;
  };
  return (n) => {
    const given = request.newInstances?.[n];
    const instance: InstanceSnapshot = {
      id: given?.id ?? freshId(),
      serviceId: service.id,
      name: given?.name ?? "",
      labels,
      ports: service.ports,
    };
    return { instance, keys: instanceKeys(instance, labelPairs) };
  };
}

function placeCount(
  index: SnapshotIndex,
  rules: CompiledRules,
  request: ScheduleRequest,
  count: number,
  seed: Seed,
  makeInstance: InstanceMaker,
  added: IndexedInstance[],
): ScheduleResult {
  const serviceId = request.service.id;
  const hosts = index.hosts;
  const queue = new HostQueue(hosts.length);
  const seedValue = seedHash(seed);
  for (const slot of hosts) {
    if (!takesNewInstances(slot) || !passesHardRules(slot, rules)) continue;
    const i = slot.position;
    queue.soft[i] = softScore(slot, rules);
    queue.ofService[i] = slot.countOfService(serviceId);
    queue.total[i] = slot.total;
    queue.tie[i] = tieBreakRank(slot.idHash, seedValue);
    queue.append(i);
  }
  queue.heapify();

  const placements: Placement[] = [];
  while (placements.length < count && queue.length > 0) {
    const slot = hosts[queue.top()];
    const { instance, keys } = makeInstance(placements.length);
    added.push(index.addInstance(slot.id, instance, keys));
    placements.push({ hostId: slot.id, hostName: slot.name, instance });
    // Only this host changed; rules are host-local, so no other host needs a second look.
    const i = slot.position;
    if (passesHardRules(slot, rules)) {
      queue.soft[i] = softScore(slot, rules);
      queue.ofService[i]++;
      queue.total[i]++;
      queue.topChanged();
    } else {
      queue.removeTop();
    }
  }
  if (placements.length === count) return { ok: true, placements };

  const reasons: Record<string, string[]> = {};
  for (const slot of hosts) reasons[reasonKey(reasons, slot)] = explainHost(slot, rules);
  return { ok: false, placements, unplaceable: describeUnplaceable(request.service, count, count - placements.length, reasons) };
}

/** One instance on every active host that passes the hard rules and lacks one; the rest are explained, not failed. */
function placeGlobal(
  index: SnapshotIndex,
  rules: CompiledRules,
  request: ScheduleRequest,
  makeInstance: InstanceMaker,
  added: IndexedInstance[],
): ScheduleResult {
  const placements: Placement[] = [];
  const skipped: Record<string, string[]> = {};
  for (const slot of index.hosts) {
    if (slot.countOfService(request.service.id) > 0) continue;
    if (!takesNewInstances(slot) || !passesHardRules(slot, rules)) {
      skipped[reasonKey(skipped, slot)] = explainHost(slot, rules);
      continue;
    }
    const { instance, keys } = makeInstance(placements.length);
    added.push(index.addInstance(slot.id, instance, keys));
    placements.push({ hostId: slot.id, hostName: slot.name, instance });
  }
  return { ok: true, placements, skipped };
}

/** Reasons are keyed by host name; two hosts sharing a name are told apart by id. */
function reasonKey(reasons: Record<string, string[]>, slot: HostSlot): string {
  return reasons[slot.name] === undefined ? slot.name : `${slot.name} (${slot.id})`;
}
