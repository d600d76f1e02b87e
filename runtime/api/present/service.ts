import type { ServiceRecord } from "../../protocol/model";
import type { Urls } from "../urls";
import { ResourceJson, actionLinks, resource } from "./resource";

export function serviceActions(service: ServiceRecord): string[] {
  switch (service.state) {
    case "active":
    case "updating":
      return ["scale", "restart", "deactivate"];
    case "inactive":
      return ["scale", "activate"];
    default:
      return [];
  }
}

export function presentService(service: ServiceRecord, urls: Urls): ResourceJson {
  const self = urls.env(service.envId, "services", service.id);
  const links: Record<string, string> = {
    self,
    environment: urls.env(service.envId),
    stack: urls.env(service.envId, "stacks", service.stackId),
    instances: urls.to(["environments", service.envId, "instances"], { serviceId: service.id }),
  };
  // One link per service link alias, as Rancher's consumedservices did.
  for (const [alias, targetId] of Object.entries(service.spec.links)) {
    links[`link:${alias}`] = urls.env(service.envId, "services", targetId);
  }
  return resource("service", service, links, actionLinks(self, serviceActions(service)));
}
