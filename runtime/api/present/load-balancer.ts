import type { LoadBalancerRecord } from "../../protocol/model";
import type { Urls } from "../urls";
import { ResourceJson, resource } from "./resource";

/** A load balancer as the API shows it; one `target:<n>` link per port rule's service. */
export function presentLoadBalancer(lb: LoadBalancerRecord, urls: Urls): ResourceJson {
  const self = urls.env(lb.envId, "loadbalancers", lb.id);
  const links: Record<string, string> = {
    self,
    environment: urls.env(lb.envId),
    stack: urls.env(lb.envId, "stacks", lb.stackId),
  };
  lb.spec.portRules.forEach((rule, i) => {
    links[`target:${i}`] = urls.env(lb.envId, "services", rule.targetServiceId);
  });
  // No actions: scale and the rest go through PUT/PATCH until agents run HAProxy.
  return resource("loadBalancer", lb, links, {});
}
