import type { InstanceRecord, LoadBalancerInstanceStatus, LoadBalancerRecord } from "../../protocol/model";
import type { Urls } from "../urls";
import type { ResourceJson } from "./resource";

/** The record fields a load balancer shows (an allow-list: a field added to the record later stays internal until listed). */
const SHOWN: ReadonlyArray<keyof LoadBalancerRecord> = [
  "envId", "stackId", "name", "spec", "state", "transitioning", "transitioningMessage", "createdAt", "rev",
];

/** One HAProxy instance of a load balancer, as the API shows it. */
export interface LoadBalancerInstanceJson {
  id: string;
  name: string;
  hostId: string;
  state: InstanceRecord["state"];
  /**
   * What the host's agent reports about this HAProxy (state, error, reloads, backends);
   * null when it has reported nothing yet. Only GET of one load balancer reads the agents'
   * reports: a list leaves it out.
   */
  haproxy?: LoadBalancerInstanceStatus | null;
}

/** A load balancer's instances (kind "lb"), with the agents' reports when `observed` is given. */
export function loadBalancerInstances(
  lb: LoadBalancerRecord, instances: InstanceRecord[], observed?: (instance: InstanceRecord) => LoadBalancerInstanceStatus | undefined,
): LoadBalancerInstanceJson[] {
  return instances
    .filter((i) => i.kind === "lb" && i.serviceId === lb.id && i.state !== "removed")
    .sort((a, b) => a.index - b.index)
    .map((i) => ({
      id: i.id, name: i.name, hostId: i.hostId, state: i.state,
      ...(observed ? { haproxy: observed(i) ?? null } : {}),
    }));
}

/**
 * A load balancer as the API shows it: its record's listed fields, `served` (one of its
 * HAProxy instances serves the current rules), `instances` when given (the API's answers
 * give them; events, which carry the record as it is now, do not), a `target:<n>` link per
 * port rule's service and a `certificate:<n>` link per certificate.
 */
export function presentLoadBalancer(lb: LoadBalancerRecord, urls: Urls, instances?: LoadBalancerInstanceJson[]): ResourceJson {
  const self = urls.env(lb.envId, "loadbalancers", lb.id);
  const links: Record<string, string> = {
    self,
    environment: urls.env(lb.envId),
    stack: urls.env(lb.envId, "stacks", lb.stackId),
    instances: urls.to(["environments", lb.envId, "instances"], { serviceId: lb.id }),
  };
  lb.spec.portRules.forEach((rule, i) => {
    links[`target:${i}`] = urls.env(lb.envId, "services", rule.targetServiceId);
  });
  lb.spec.certificateIds.forEach((id, i) => {
    links[`certificate:${i}`] = urls.env(lb.envId, "certificates", id);
  });
  const shown: Record<string, unknown> = {};
  for (const field of SHOWN) if (lb[field] !== undefined) shown[field] = lb[field];
  // No actions: scale and the rest go through PUT/PATCH.
  return {
    id: lb.id, type: "loadBalancer", ...shown, served: lb.served === true,
    ...(instances ? { instances } : {}),
    links, actions: {},
  };
}
