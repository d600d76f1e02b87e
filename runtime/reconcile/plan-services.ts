import type { HostRecord, InstanceRecord, LoadBalancerRecord, ServiceRecord, StackRecord } from "../protocol/model";
import { hostLabelViolations, hostPortsOf, indexSnapshot, schedule, scheduleAndCommit, type ScheduleResult, type SnapshotIndex } from "../scheduler";
import { replacementFor, type Replacement } from "./backoff";
import { clusterSnapshot, type DockerDiskFigures } from "./cluster-snapshot";
import { drainMsFor } from "./drain";
import { groupBy } from "./group-by";
import { instanceFactory, toInstanceSnapshot } from "./instance-factory";
import { keepsInstances } from "./liveness";
import { planLoadBalancers } from "./plan-load-balancers";
import type { InstanceAddresses } from "./plan-network";
import { sickToReplace } from "./plan-recreate";
import { isRollingOut, planUpgradeStep, startUpgrade } from "./plan-upgrade";
import { serviceHealth } from "./plan-health";

export interface ServicePlan {
  /** Instances to create. */
  create: InstanceRecord[];
  /** Instances changed in place (marked stopping, a load balancer's spec carried over). */
  update: InstanceRecord[];
  /** Instance ids to remove, with why (for the log). */
  remove: { id: string; why: string }[];
  /** Services whose progress fields or record changed. */
  services: ServiceRecord[];
  /** Load balancers whose record changed. */
  loadBalancers: LoadBalancerRecord[];
  /** Services, load balancers and stacks whose removal is complete. */
  deleteServices: string[];
  deleteLoadBalancers: string[];
  deleteStacks: string[];
  /** The earliest time a later pass has something to do without any new signal. */
  wakeAt?: number;
}

export interface ServicePlanInput {
  hosts: HostRecord[];
  stacks: StackRecord[];
  services: ServiceRecord[];
  loadBalancers: LoadBalancerRecord[];
  /** Instances with their observed status and health applied. */
  instances: InstanceRecord[];
  envRemoving: boolean;
  seed: number;
  newId: () => string;
  now: number;
  addresses: InstanceAddresses;
  /** Running, not stopping, and healthy where a check exists. */
  serving: (i: InstanceRecord) => boolean;
  /** Host id → space on its Docker data root: a nearly full one takes no new instance (its own stay). */
  dockerDisk?: DockerDiskFigures;
  /** Instances that turned unhealthy in this pass: written as such first, replaced in the next. */
  justSick?: Set<string>;
  /** Load balancer instance id → whether its HAProxy serves, and its error (from the agents' reports). */
  lbServing: (i: InstanceRecord) => { running: boolean; error?: string };
}

/**
 * Decides, for every service and load balancer, which instances go (scaled down, replaced by
 * an upgrade, sick, host gone, service removed), which are first drained, and where new ones
 * go, each new one with an address from its host's subnet (none left: not created, the
 * service shows why). Rolling upgrades advance one step (plan-upgrade.ts), sick instances
 * are replaced per the health check's strategy with growing back-off (plan-recreate.ts,
 * backoff.ts). Pure: the scheduler gets `seed`.
 */
export function planServices(input: ServicePlanInput): ServicePlan {
  const { hosts, stacks, services, instances, envRemoving, now } = input;
  const plan: ServicePlan = { create: [], update: [], remove: [], services: [], loadBalancers: [], deleteServices: [], deleteLoadBalancers: [], deleteStacks: [] };
  const wake = (t: number | undefined) => { if (t !== undefined && t > now && (plan.wakeAt === undefined || t < plan.wakeAt)) plan.wakeAt = t; };
  const hostById = new Map(hosts.map((h) => [h.id, h]));
  const stackById = new Map(stacks.map((s) => [s.id, s]));
  const containers = instances.filter((i) => i.kind !== "lb");
  const byService = groupBy(containers, (i) => i.serviceId);

  const removed = new Set<string>();
  const drop = (i: InstanceRecord, why: string) => { if (!removed.has(i.id)) { removed.add(i.id); plan.remove.push({ id: i.id, why }); } };

  // 1. What goes whatever else happens: services going away, instances on lost hosts.
  const goingAway = (s: ServiceRecord) => {
    const stack = stackById.get(s.stackId);
    return envRemoving || !stack || stack.state !== "active" || s.state === "removing" || s.state === "removed";
  };
  for (const service of services) {
    const own = byService.get(service.id) ?? [];
    if (goingAway(service) || service.state === "inactive") {
      for (const i of own) drop(i, `service ${service.name} is ${goingAway(service) ? "being removed" : "inactive"}`);
      if (goingAway(service)) plan.deleteServices.push(service.id);
      continue;
    }
    for (const i of own) {
      const host = hostById.get(i.hostId);
      // A deactivated host whose agent is alive drains its instances (step 2); a lost one cannot.
      if (!keepsInstances(host) && !drainsOnHost(host)) drop(i, `host ${host?.name ?? i.hostId} is ${host?.deactivated ? "deactivated" : host?.state ?? "gone"}`);
    }
  }
  const lbPlan = planLoadBalancers.removals(input, drop);
  for (const stack of stacks) {
    if (stack.state !== "active" || envRemoving) {
      const left = services.some((s) => s.stackId === stack.id && !plan.deleteServices.includes(s.id)) ||
        input.loadBalancers.some((lb) => lb.stackId === stack.id && !lbPlan.deleted.includes(lb.id));
      if (!left) plan.deleteStacks.push(stack.id);
    }
  }
  plan.deleteLoadBalancers.push(...lbPlan.deleted);
  plan.loadBalancers.push(...lbPlan.records);
  if (envRemoving) return plan;

  // The scheduler sees hosts that take new instances, with every instance that stays
  // (draining ones included: they still hold their ports until they are gone).
  // Built on first use: most passes place nothing (statuses, quiet timers), and at 25,000
  // instances the index cost a fifth of such a pass. Built later it is the same view: every
  // instance dropped before is left out, every one dropped after is taken out (dropWhy).
  let built: SnapshotIndex | undefined;
  const index = () => built ??= indexSnapshot(clusterSnapshot(hosts, instances.filter((i) => !removed.has(i.id)), input.dockerDisk));

  for (const original of services) {
    if (original.state !== "active" || plan.deleteServices.includes(original.id)) continue;
    const stack = stackById.get(original.stackId)!;
    let service = original;
    const messages: string[] = [];
    let error = false;
    const drainMs = drainMsFor(service, input.loadBalancers);

    // 2. Draining instances leave once their time is up.
    const own = (byService.get(service.id) ?? []).filter((i) => !removed.has(i.id));
    const live: InstanceRecord[] = [];
    let draining = 0;
    for (const i of own) {
      if (!i.stopping) { live.push(i); continue; }
      const at = Date.parse(i.stopping.stopAt);
      if (!(now < at)) { dropWhy(plan, removed, built, i, i.stopping.reason); continue; }
      draining++;
      wake(at);
    }
    const stop = (i: InstanceRecord, reason: string) => {
      const idx = live.indexOf(i);
      if (idx >= 0) live.splice(idx, 1);
      draining++;
      const stopAt = now + drainMs;
      plan.update.push({ ...i, stopping: { reason, stopAt: new Date(stopAt).toISOString() } });
      wake(stopAt);
    };
    for (const i of [...live]) {
      const host = hostById.get(i.hostId);
      if (drainsOnHost(host)) stop(i, `host ${host!.name} is deactivated`);
    }

    // 2b. Instances on hosts whose labels no longer satisfy the service's hard host-label rules
    // (labels change in place) move: drained here, replaced by the fill below, but only as
    // many as another host can take, so a label change never leaves fewer running.
    const violations = new Map<string, string[]>();
    const violationsOn = (hostId: string): string[] => {
      let why = violations.get(hostId);
      if (!why) {
        const host = hostById.get(hostId);
        why = host ? hostLabelViolations(host.labels, { id: service.id, name: service.name, stackName: stack.name, labels: service.spec.labels, ports: [] }) : [];
        violations.set(hostId, why);
      }
      return why;
    };
    const hasHostRules = Object.keys(service.spec.labels).some((k) => k.toLowerCase().includes("host_label"));
    const misplaced = !hasHostRules || service.spec.global ? [] : live.flatMap((i) => {
      const why = violationsOn(i.hostId);
      return why.length > 0 ? [{ i, why }] : [];
    });
    if (misplaced.length > 0) {
      const probe = schedule(index(), {
        service: { id: service.id, name: service.name, stackName: stack.name, labels: service.spec.labels, ports: hostPortsOf(service.spec.ports) },
        count: misplaced.length,
      }, `${input.seed}:${service.id}:move`);
      misplaced.forEach(({ i, why }, k) => {
        if (k < probe.placements.length) stop(i, `host ${hostById.get(i.hostId)?.name ?? i.hostId} no longer matches: ${why.join(", ")}`);
        else messages.push(`${i.name} stays on ${hostById.get(i.hostId)?.name ?? i.hostId} (${why.join(", ")}): no other host can take it`);
      });
    }
    if (hasHostRules && service.spec.global) {
      // A global service has one instance per eligible host: one on a host that stopped qualifying just goes.
      for (const i of [...live]) {
        const why = violationsOn(i.hostId);
        if (why.length > 0) stop(i, `host ${hostById.get(i.hostId)?.name ?? i.hostId} no longer matches: ${why.join(", ")}`);
      }
    }

    // 3. Sick instances, per the health check's strategy (an upgrade's own new instances
    // are its business: a failed batch rolls back instead).
    const replacements: Replacement[] = [];
    const sick = sickToReplace(service, live.filter((i) => !input.justSick?.has(i.id)), isRollingOut(service), now);
    wake(sick.wakeAt);
    for (const i of sick.replace) {
      dropWhy(plan, removed, built, i, `unhealthy (${i.healthReason ?? "check failed"}): recreating`);
      live.splice(live.indexOf(i), 1);
      replacements.push(replacementFor(i, now));
    }
    if (sick.message) messages.push(sick.message);

    // 4. The rolling upgrade's step.
    const target = service.spec.global ? undefined : service.spec.scale;
    const split = () => ({
      current: live.filter((i) => i.specVersion === service.specVersion),
      old: live.filter((i) => i.specVersion !== service.specVersion),
    });
    let { current, old } = split();
    if (old.length > 0 && !isRollingOut(service)) {
      // Instances of another version with no rollout under way (records from before upgrades
      // existed, say): roll them over like any upgrade; a failure then retries this same spec.
      service = { ...service, upgrade: startUpgrade(service, service.specVersion, new Date(now).toISOString()) };
    }
    let step = planUpgradeStep({ service, current, old, target, ready: input.serving, now, unplaceable: newSpecUnplaceable(index, service, stack, own.filter((i) => !removed.has(i.id)), input.seed) });
    if (step.rolledBack) {
      for (const { instance, reason } of step.dropNow) {
        dropWhy(plan, removed, built, instance, reason);
        live.splice(live.indexOf(instance), 1);
      }
      service = step.service;
      ({ current, old } = split());
      step = planUpgradeStep({ service, current, old, target, ready: input.serving, now });
    }
    service = step.service;
    wake(step.wakeAt);
    if (step.error) { error = true; messages.push(step.error); }
    for (const i of step.stop) stop(i, `upgrade to version ${service.specVersion}`);
    ({ current, old } = split());

    // 5. Scale: too many current instances drain from the highest index; missing ones are placed.
    if (target !== undefined && !isRollingOut(service) && live.length > target) {
      const extra = [...live].sort((a, b) => b.index - a.index).slice(0, live.length - target);
      for (const i of extra) stop(i, `scale ${target}`);
    }
    const used = new Set(own.filter((i) => !removed.has(i.id)).map((i) => i.index));
    const want = target === undefined ? "global" as const : Math.max(0, target - live.length) + step.extra;
    const made: InstanceRecord[] = [];
    if (want === "global" || want > 0) {
      const result = scheduleAndCommit(index(), {
        service: { id: service.id, name: service.name, stackName: stack.name, labels: service.spec.labels, ports: hostPortsOf(service.spec.ports) },
        count: want,
      }, `${input.seed}:${service.id}`);
      const noAddress: string[] = [];
      const make = instanceFactory(service, stack, now);
      for (const p of result.placements) {
        const addr = input.addresses.take(p.hostId);
        if ("reason" in addr) {
          // Not created: take it back out of the scheduler's view so later services don't count it.
          index().removeInstance(p.instance.id);
          noAddress.push(addr.reason);
          continue;
        }
        const slot = replacements.shift();
        const record = make(input.newId(), p.hostId, slot?.index !== undefined && !used.has(slot.index) ? take(used, slot.index) : nextIndex(used), addr.ip);
        if (slot?.attempt) record.attempt = slot.attempt;
        if (slot?.backoffUntil) { record.backoffUntil = slot.backoffUntil; wake(Date.parse(slot.backoffUntil)); }
        made.push(record);
      }
      plan.create.push(...made);
      // startFirst where the new instances cannot start beside the old ones (a published port,
      // a hard anti-affinity rule): those places fall back to stop first, and say why.
      const short = step.extra - Math.min(step.extra, made.length);
      if (short > 0) {
        const oldLive = live.filter((i) => i.specVersion !== service.specVersion).sort((a, b) => b.index - a.index);
        for (const i of oldLive.slice(0, short)) stop(i, `upgrade to version ${service.specVersion} (startFirst not possible here)`);
        if (service.upgrade && service.upgrade.reason === undefined) {
          const why = result.unplaceable ? `: ${result.unplaceable.message}` : "";
          service = { ...service, upgrade: { ...service.upgrade, reason: `startFirst: ${short} of ${step.extra} new instances could not start before the old ones stopped${why}` } };
        }
      }
      const unplaced = short > 0 ? undefined : placementProblem(result, draining);
      if (unplaced) { error = true; messages.push(unplaced); }
      if (noAddress.length > 0) { error = true; messages.push(addressProblem(`${stack.name}/${service.name}`, noAddress)); }
    }
    if (step.startsBatch && service.upgrade?.batch) {
      service = { ...service, upgrade: { ...service.upgrade, batch: { ...service.upgrade.batch, instanceIds: made.map((i) => i.id) } } };
    }

    // 6. Progress and health, Rancher's way.
    const remaining = [...live.filter((i) => !removed.has(i.id)), ...made];
    const settled = !isRollingOut(service) && draining === 0 && made.length === 0 && plan.remove.every((r) => !own.some((i) => i.id === r.id))
      && remaining.every((i) => i.state === "active" && !i.backoffUntil);
    const transitioning: ServiceRecord["transitioning"] = error ? "error" : settled ? "no" : "yes";
    const message = messages.length > 0 ? messages.join("; ") : undefined;
    const healthState = serviceHealth(service, remaining);
    if (service !== original || service.transitioning !== transitioning || service.transitioningMessage !== message || service.healthState !== healthState) {
      const next: ServiceRecord = { ...service, transitioning };
      if (message === undefined) delete next.transitioningMessage;
      else next.transitioningMessage = message;
      if (healthState === undefined) delete next.healthState;
      else next.healthState = healthState;
      plan.services.push(next);
    }
  }

  const lbs = planLoadBalancers.placements(input, index, removed, (i, why) => dropWhy(plan, removed, built, i, why));
  plan.create.push(...lbs.create);
  plan.update.push(...lbs.update);
  plan.loadBalancers.push(...lbs.records.filter((r) => !plan.loadBalancers.some((x) => x.id === r.id)));
  wake(lbs.wakeAt);
  return plan;
}

/**
 * During an upgrade, whether one instance of the new spec could go anywhere at all, even with
 * every instance of the service gone (so a published port its own instances hold does not
 * count): a spec no host can take (a mistyped host label, say) fails the rollout at once
 * instead of at its batch deadline. The index is left as it was.
 */
function newSpecUnplaceable(lazyIndex: () => SnapshotIndex, service: ServiceRecord, stack: StackRecord, own: InstanceRecord[], seed: number): string | undefined {
  if (service.upgrade?.state !== "upgrading") return undefined;
  // Nothing running to protect (or nothing wanted): an unplaceable spec just waits, saying why.
  if (own.length === 0 || (!service.spec.global && service.spec.scale === 0)) return undefined;
  const index = lazyIndex();
  const taken = own.filter((i) => index.removeInstance(i.id));
  try {
    const result = schedule(index, {
      service: { id: service.id, name: service.name, stackName: stack.name, labels: service.spec.labels, ports: hostPortsOf(service.spec.ports) },
      count: service.spec.global ? "global" : 1,
    }, `${seed}:${service.id}:probe`);
    if (service.spec.global) {
      if (result.placements.length > 0 || own.length === 0) return undefined;
      const why = Object.entries(result.skipped ?? {}).map(([host, reasons]) => `${host}: ${reasons.join(", ")}`).join("; ");
      return `no host takes the new spec${why ? ` (${why})` : ""}`;
    }
    return result.ok ? undefined : result.unplaceable?.message ?? "no host takes the new spec";
  } finally {
    for (const i of taken) index.addInstance(i.hostId, toInstanceSnapshot(i));
  }
}

/** A deactivated host whose agent still reports: its instances leave gracefully (drained), not at once. */
function drainsOnHost(host: HostRecord | undefined): boolean {
  return !!host && host.deactivated && host.state === "inactive";
}

/** `index`: the scheduler's view if built yet (one built later leaves out what `removed` holds). */
function dropWhy(plan: ServicePlan, removed: Set<string>, index: SnapshotIndex | undefined, i: InstanceRecord, why: string): void {
  if (removed.has(i.id)) return;
  removed.add(i.id);
  plan.remove.push({ id: i.id, why });
  index?.removeInstance(i.id);
}

/**
 * Why some instances could not be placed, unless the only obstacle is this service's own
 * instances that are draining (their ports free up when they are gone).
 */
function placementProblem(result: ScheduleResult, draining: number): string | undefined {
  if (result.ok || !result.unplaceable) return undefined;
  if (draining > 0) return undefined;
  return result.unplaceable.message;
}

/** `2 instances of app/web got no address: host h1: subnet ... has no free address`. */
export function addressProblem(service: string, reasons: string[]): string {
  return `${reasons.length} instance${reasons.length === 1 ? "" : "s"} of ${service} got no address: ${[...new Set(reasons)].join("; ")}`;
}

/** Per `used` set: no free index below this one (indexes are only ever added), so n placements cost O(n), not O(n²). */
const lowestFree = new WeakMap<Set<number>, number>();

export function nextIndex(used: Set<number>): number {
  let i = lowestFree.get(used) ?? 1;
  while (used.has(i)) i++;
  used.add(i);
  lowestFree.set(used, i + 1);
  return i;
}

function take(used: Set<number>, index: number): number {
  used.add(index);
  return index;
}

export type { SnapshotIndex };
