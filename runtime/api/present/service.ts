import type { InstanceRecord, ServiceRecord } from "../../protocol/model";
import type { Urls } from "../urls";
import { ResourceJson, actionLinks, pick, resource } from "./resource";
import { withoutSecrets } from "./spec-secrets";

export function serviceActions(service: ServiceRecord): string[] {
  const upgrade = service.upgrade?.state;
  const upgradeActions = [
    ...(upgrade === "upgrading" || upgrade === "upgraded" ? ["rollback"] : []),
    ...(upgrade === "upgraded" || upgrade === "rolled-back" ? ["finishupgrade"] : []),
  ];
  switch (service.state) {
    case "active":
    case "updating":
      return ["scale", "restart", "deactivate", ...upgradeActions];
    case "inactive":
      return ["scale", "activate"];
    default:
      return [];
  }
}

/** The fields a service shows (an allow-list: a field added to the record later is not shown by accident). */
const FIELDS = [
  "envId", "stackId", "name", "state", "transitioning", "transitioningMessage", "healthState", "spec", "specVersion", "createdAt", "rev",
] as const;

/**
 * A service as the API shows it. With `instances` (its instance records), an upgrade shows
 * how many instances run each spec version, so a client can follow the rollout.
 */
export function presentService(service: ServiceRecord, urls: Urls, instances?: InstanceRecord[]): ResourceJson {
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
  const shown: Record<string, unknown> & { id: string } = { id: service.id, ...pick(service, FIELDS), spec: withoutSecrets(service.spec) };
  if (service.upgrade) {
    const u = service.upgrade;
    shown.upgrade = {
      ...pick(u, ["state", "fromVersion", "toVersion", "startedAt", "batch", "nextBatchAt", "reason", "finishedAt"] as const),
      fromSpec: withoutSecrets(u.fromSpec),
      ...(instances ? { instancesByVersion: countByVersion(instances.filter((i) => i.serviceId === service.id && !i.stopping)) } : {}),
    };
  }
  return resource("service", shown, links, actionLinks(self, serviceActions(service)));
}

function countByVersion(instances: InstanceRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of instances) out[String(i.specVersion)] = (out[String(i.specVersion)] ?? 0) + 1;
  return out;
}
