import type { HostRecord, InstanceRecord, LoadBalancerRecord, ServiceRecord } from "../protocol/model";
import type { RecordKind } from "../store/store";
import { heldBack } from "./backoff";
import { planDesiredDocs } from "./desired-docs";
import { sameJson } from "./same-json";
import { buildDnsDirectory } from "./dns-directory";
import { hostNetworkSpecs } from "./network-spec";
import { statusOf, withObservedStatus } from "./instance-state";
import { nextHostState } from "./liveness";
import { isServing, planHealth } from "./plan-health";
import { assignHostSubnets, InstanceAddresses } from "./plan-network";
import type { Plan, PlanInput } from "./plan-types";
import { planServices } from "./plan-services";
import { environmentCadence } from "../protocol/heartbeat-cadence";

/**
 * One level-triggered pass over an environment: host liveness and subnets, instance states
 * and health from the agents' reports, instances to remove, drain and place (scale, rolling
 * upgrades, sick replacements, load balancers), and the per-host desired documents and the
 * DNS directory that follow. Pure: the reconciler does the reading before and the writing after.
 */
export function planEnvironment(input: PlanInput): Plan {
  const { snapshot, now } = input;
  const plan: Plan = { batch: { put: [], remove: [] }, desired: [], teardownHosts: [], removedHosts: [], purge: false };
  const puts = new Map<string, { kind: RecordKind; record: HostRecord | InstanceRecord | ServiceRecord | LoadBalancerRecord }>();
  const put = (kind: RecordKind, record: HostRecord | InstanceRecord | ServiceRecord | LoadBalancerRecord) => puts.set(`${kind}:${record.id}`, { kind, record });
  const envRemoving = snapshot.env.state === "removing";
  const loadBalancers = snapshot.loadBalancers ?? [];

  // 1. Host liveness, then a subnet for every host that lacks one (one write per host).
  const live = snapshot.hosts.map((h) => nextHostState(h, input.heartbeats[h.id], now, { graceMs: input.graceMs }) ?? h);
  const subnets = envRemoving ? { hosts: live, missing: new Map<string, string>() } : assignHostSubnets(snapshot.env.network, live);
  const hosts = subnets.hosts;
  hosts.forEach((h, k) => { if (h !== snapshot.hosts[k]) put("host", h); });

  // 2. Instance states from the agents' reports, then health from the checkers' verdicts.
  const services = new Map(snapshot.services.map((s) => [s.id, s]));
  let instances = snapshot.instances.map((i) => {
    const next = withObservedStatus(i, statusOf(i, input.observed[i.hostId]));
    if (next) put("instance", next);
    return next ?? i;
  });
  const health = planHealth({ hosts, instances, services, observed: input.observed, heartbeats: input.heartbeats, now });
  // Turned unhealthy in this very pass: recorded (an event, DNS lets go) before any replacement, which comes next pass.
  const justSick = new Set([...health.changed.values()].filter((i) => i.healthState === "unhealthy" && instances.find((x) => x.id === i.id)?.healthState !== "unhealthy").map((i) => i.id));
  instances = instances.map((i) => {
    const next = health.changed.get(i.id);
    if (next) put("instance", next);
    return next ?? i;
  });

  // 3. Teardown: every host cleans up, then the environment's keys go.
  if (envRemoving) {
    for (const h of hosts) {
      const gone = input.teardownDone[h.id] || h.state === "disconnected" || input.heartbeats[h.id] === undefined;
      if (!gone) plan.teardownHosts.push(h.id);
    }
    plan.purge = plan.teardownHosts.length === 0;
    plan.batch.put = [...puts.values()];
    return plan;
  }

  // 4. Hosts being removed (API DELETE): the agent cleans up, then the record and its keys go.
  for (const h of hosts.filter((h) => h.state === "removing")) {
    const gone = input.teardownDone[h.id] || input.heartbeats[h.id] === undefined;
    if (gone) {
      plan.batch.remove.push({ kind: "host", id: h.id });
      plan.removedHosts.push(h.id);
    } else plan.teardownHosts.push(h.id);
  }

  // 5. Services and load balancers: removals, draining, upgrades, placements.
  const addresses = new InstanceAddresses(hosts, instances, subnets.missing);
  const result = planServices({
    hosts, stacks: snapshot.stacks, services: snapshot.services, loadBalancers, instances, envRemoving,
    seed: input.seed, newId: input.newId, now, addresses, dockerDisk: input.dockerDisk,
    serving: (i) => isServing(i, services),
    justSick,
    lbServing: (i) => {
      const s = input.observed[i.hostId]?.loadBalancers?.[i.id];
      return { running: s?.state === "running", ...(s?.error ? { error: s.error } : {}) };
    },
  });
  const removedIds = new Set(result.remove.map((r) => r.id));
  for (const r of result.remove) plan.batch.remove.push({ kind: "instance", id: r.id });
  for (const i of [...result.update, ...result.create]) put("instance", i);
  for (const s of result.services) put("service", s);
  for (const lb of result.loadBalancers) put("loadBalancer", lb);
  for (const id of result.deleteServices) plan.batch.remove.push({ kind: "service", id });
  for (const id of result.deleteLoadBalancers) {
    if (!instances.some((i) => i.serviceId === id && !removedIds.has(i.id))) plan.batch.remove.push({ kind: "loadBalancer", id });
  }
  for (const id of result.deleteStacks) plan.batch.remove.push({ kind: "stack", id });
  // A record both updated and removed: the removal wins.
  const deleted = new Set(plan.batch.remove.map((r) => `${r.kind}:${r.id}`));
  plan.batch.put = [...puts.entries()].filter(([key]) => !deleted.has(key)).map(([, p]) => p);
  const wakeAt = [health.wakeAt, result.wakeAt].filter((t): t is number => t !== undefined);
  if (wakeAt.length) plan.wakeAt = Math.min(...wakeAt);

  // 6. Desired documents for the hosts whose instances, checks, load balancers or overlay part changed.
  const byId = new Map(instances.map((i) => [i.id, i]));
  for (const i of [...result.update, ...result.create]) byId.set(i.id, i);
  const remaining = [...byId.values()].filter((i) => !removedIds.has(i.id));
  const finalServices = new Map(snapshot.services.map((s) => [s.id, s]));
  for (const s of result.services) finalServices.set(s.id, s);
  const finalLbs = new Map(loadBalancers.map((lb) => [lb.id, lb]));
  for (const lb of result.loadBalancers) finalLbs.set(lb.id, lb);
  // The checks follow the records as this pass leaves them (a replacement has no status yet).
  const checks = planHealth({ hosts, instances: remaining, services: finalServices, observed: input.observed, heartbeats: input.heartbeats, now }).targets;
  const onAgents = remaining.filter((i) => !heldBack(i, now));
  // Every host the environment keeps counts towards the heartbeat budget, live or not: a short
  // outage of many hosts does not rewrite every other host's document.
  const heartbeat = input.heartbeat && environmentCadence(hosts.filter((h) => h.state !== "removing" && h.state !== "removed").length, input.heartbeat);
  const docs = planDesiredDocs({
    hosts, instances: onAgents, stored: input.desired, networks: hostNetworkSpecs(snapshot.env, hosts, input.ipsec), checks,
    loadBalancers: finalLbs, certificates: new Map((snapshot.certificates ?? []).map((c) => [c.id, c])),
    storedDigests: input.storedDesiredDigests, ...(heartbeat ? { heartbeat } : {}),
  });
  plan.desired = docs.changed;
  plan.desiredDigests = docs.digests;

  // 7. The DNS directory, from the records as this pass leaves them.
  const gone = new Set([...result.deleteServices, ...result.deleteStacks]);
  const directory = buildDnsDirectory(
    snapshot.stacks.filter((s) => !gone.has(s.id)), [...finalServices.values()].filter((s) => !gone.has(s.id)), remaining,
  );
  if (!sameJson(directory, input.dns?.directory ?? null)) plan.dns = directory;
  return plan;
}

/** True when the plan writes nothing. */
export function isEmptyPlan(plan: Plan): boolean {
  return plan.batch.put.length === 0 && plan.batch.remove.length === 0 && plan.desired.length === 0 && !plan.dns
    && plan.teardownHosts.length === 0 && plan.removedHosts.length === 0 && !plan.purge;
}
