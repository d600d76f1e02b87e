/**
 * Load balancer instances (pure): each load balancer's HAProxies are instance records of
 * kind "lb", placed by the scheduler like a service's containers (scale or global, the
 * load balancer's scheduling labels, its source ports as host ports so it never lands where
 * a service publishes the same port). A spec change needs no new instance: the agent renders
 * and reloads (or, for membership, drives the runtime API). A load balancer being removed
 * loses its instances, then its record.
 */
import type { InstanceRecord, LoadBalancerRecord } from "../protocol/model";
import { hostPortsOf, scheduleAndCommit, type SnapshotIndex } from "../scheduler";
import { groupBy } from "./group-by";
import { loadBalancerInstanceSpec, newLoadBalancerInstance } from "./instance-factory";
import { keepsInstances } from "./liveness";
import type { ServicePlanInput } from "./plan-services";
import { canonical } from "./desired-docs";

function lbInstances(input: ServicePlanInput): Map<string, InstanceRecord[]> {
  return groupBy(input.instances.filter((i) => i.kind === "lb"), (i) => i.serviceId);
}

function goingAway(input: ServicePlanInput, lb: LoadBalancerRecord): boolean {
  const stack = input.stacks.find((s) => s.id === lb.stackId);
  return input.envRemoving || !stack || stack.state !== "active" || lb.state !== "active";
}

/** Instances that must go before anything is placed; load balancers whose removal is complete. */
function removals(input: ServicePlanInput, drop: (i: InstanceRecord, why: string) => void): { deleted: string[]; records: LoadBalancerRecord[] } {
  const out = { deleted: [] as string[], records: [] as LoadBalancerRecord[] };
  const byLb = lbInstances(input);
  const hostById = new Map(input.hosts.map((h) => [h.id, h]));
  const known = new Set(input.loadBalancers.map((lb) => lb.id));
  // Instances whose load balancer is gone altogether (removed by an older server): nothing to serve.
  for (const [lbId, list] of byLb) if (!known.has(lbId)) for (const i of list) drop(i, `load balancer ${lbId} is gone`);
  for (const lb of input.loadBalancers) {
    const own = byLb.get(lb.id) ?? [];
    if (goingAway(input, lb)) {
      for (const i of own) drop(i, `load balancer ${lb.name} is being removed`);
      out.deleted.push(lb.id);
      continue;
    }
    for (const i of own) {
      const host = hostById.get(i.hostId);
      if (!keepsInstances(host)) drop(i, `host ${host?.name ?? i.hostId} is ${host?.deactivated ? "deactivated" : host?.state ?? "gone"}`);
    }
  }
  return out;
}

/** `index`: the scheduler's view, built on first use (a pass that places nothing never builds it). */
function placements(input: ServicePlanInput, index: () => SnapshotIndex, removed: Set<string>, drop: (i: InstanceRecord, why: string) => void) {
  const out = { create: [] as InstanceRecord[], update: [] as InstanceRecord[], records: [] as LoadBalancerRecord[], wakeAt: undefined as number | undefined };
  const byLb = lbInstances(input);
  for (const lb of input.loadBalancers) {
    if (goingAway(input, lb)) continue;
    const stack = input.stacks.find((s) => s.id === lb.stackId)!;
    let live = (byLb.get(lb.id) ?? []).filter((i) => !removed.has(i.id));
    const messages: string[] = [];
    let error = false;

    // The spec's labels and ports ride on the instances (affinity rules and port conflicts see them).
    live = live.map((i) => {
      const spec = loadBalancerInstanceSpec(lb, stack, i.name);
      if (canonical(spec) === canonical(i.spec)) return i;
      const next = { ...i, spec };
      out.update.push(next);
      return next;
    });

    if (!lb.spec.global && live.length > lb.spec.scale) {
      const extra = [...live].sort((a, b) => b.index - a.index).slice(0, live.length - lb.spec.scale);
      for (const i of extra) drop(i, `scale ${lb.spec.scale}`);
      live = live.filter((i) => !extra.includes(i));
    }
    const want = lb.spec.global ? "global" as const : Math.max(0, lb.spec.scale - live.length);
    const used = new Set(live.map((i) => i.index));
    const made: InstanceRecord[] = [];
    if (want === "global" || want > 0) {
      const result = scheduleAndCommit(index(), {
        service: { id: lb.id, name: lb.name, stackName: stack.name, labels: lb.spec.labels, ports: hostPortsOf(loadBalancerInstanceSpec(lb, stack, "").ports) },
        count: want,
      }, `${input.seed}:${lb.id}`);
      for (const p of result.placements) {
        let n = 1;
        while (used.has(n)) n++;
        used.add(n);
        made.push(newLoadBalancerInstance(input.newId(), lb, stack, p.hostId, n, input.now));
      }
      if (!result.ok && result.unplaceable) { error = true; messages.push(result.unplaceable.message); }
    }
    out.create.push(...made);

    let served = false;
    let allRunning = made.length === 0;
    for (const i of live) {
      const s = input.lbServing(i);
      if (s.running) served = true;
      else allRunning = false;
      if (s.error) { error = true; messages.push(`${i.name}: ${s.error}`); }
    }
    const transitioning: LoadBalancerRecord["transitioning"] = error ? "error" : allRunning ? "no" : "yes";
    const message = messages.length ? messages.join("; ") : undefined;
    if (lb.served !== served || lb.transitioning !== transitioning || lb.transitioningMessage !== message) {
      const next: LoadBalancerRecord = { ...lb, served, transitioning };
      if (message === undefined) delete next.transitioningMessage;
      else next.transitioningMessage = message;
      out.records.push(next);
    }
  }
  return out;
}

export const planLoadBalancers = { removals, placements };
