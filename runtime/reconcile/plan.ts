import type { HostRecord, InstanceRecord, ServiceRecord } from "../protocol/model";
import type { RecordKind } from "../store/store";
import { canonical, changedDesiredDocs } from "./desired-docs";
import { buildDnsDirectory } from "./dns-directory";
import { hostNetworkSpecs } from "./network-spec";
import { withObservedStatus } from "./instance-state";
import { nextHostState } from "./liveness";
import { assignHostSubnets, InstanceAddresses } from "./plan-network";
import type { Plan, PlanInput } from "./plan-types";
import { planServices } from "./plan-services";

/**
 * One level-triggered pass over an environment: host liveness and subnets, instance states from the
 * agents' reports, instances to remove and to place, and the per-host desired documents
 * that follow. Pure: the reconciler does the reading before and the writing after.
 */
export function planEnvironment(input: PlanInput): Plan {
  const { snapshot, now } = input;
  const plan: Plan = { batch: { put: [], remove: [] }, desired: [], teardownHosts: [], removedHosts: [], purge: false };
  const put = (kind: RecordKind, record: HostRecord | InstanceRecord | ServiceRecord) => plan.batch.put.push({ kind, record });
  const envRemoving = snapshot.env.state === "removing";

  // 1. Host liveness, then a subnet for every host that lacks one (one write per host).
  const live = snapshot.hosts.map((h) => nextHostState(h, input.heartbeats[h.id], now, { graceMs: input.graceMs }) ?? h);
  const subnets = envRemoving ? { hosts: live, missing: new Map<string, string>() } : assignHostSubnets(snapshot.env.network, live);
  const hosts = subnets.hosts;
  hosts.forEach((h, k) => { if (h !== snapshot.hosts[k]) put("host", h); });

  // 2. Instance states from the agents' reports.
  const instances = snapshot.instances.map((i) => {
    const next = withObservedStatus(i, input.observed[i.hostId]?.instances[i.id]);
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

  // 5. Services: removals and placements.
  const addresses = new InstanceAddresses(hosts, instances, subnets.missing);
  const services = planServices(hosts, snapshot.stacks, snapshot.services, instances, envRemoving, input.seed, input.newId, now, addresses);
  const removedIds = new Set(services.remove.map((r) => r.id));
  for (const r of services.remove) plan.batch.remove.push({ kind: "instance", id: r.id });
  for (const i of services.create) put("instance", i);
  for (const s of services.services) put("service", s);
  for (const id of services.deleteServices) plan.batch.remove.push({ kind: "service", id });
  for (const id of services.deleteStacks) plan.batch.remove.push({ kind: "stack", id });
  // A record both updated (step 2) and removed: the removal wins.
  plan.batch.put = plan.batch.put.filter((p) => !(p.kind === "instance" && removedIds.has(p.record.id)));

  // 6. Desired documents for the hosts whose instance set or overlay part changed.
  const remaining = [...instances.filter((i) => !removedIds.has(i.id)), ...services.create];
  plan.desired = changedDesiredDocs(hosts, remaining, input.desired, hostNetworkSpecs(snapshot.env, hosts, input.ipsec));

  // 7. The DNS directory, from the records as this pass leaves them.
  const deleted = new Set([...services.deleteServices, ...services.deleteStacks]);
  const finalServices = [...new Map([...snapshot.services, ...services.services].map((s) => [s.id, s])).values()].filter((s) => !deleted.has(s.id));
  const directory = buildDnsDirectory(snapshot.stacks.filter((s) => !deleted.has(s.id)), finalServices, remaining);
  if (canonical(directory) !== canonical(input.dns?.directory ?? null)) plan.dns = directory;
  return plan;
}

/** True when the plan writes nothing. */
export function isEmptyPlan(plan: Plan): boolean {
  return plan.batch.put.length === 0 && plan.batch.remove.length === 0 && plan.desired.length === 0 && !plan.dns
    && plan.teardownHosts.length === 0 && plan.removedHosts.length === 0 && !plan.purge;
}
