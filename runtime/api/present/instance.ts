import type { InstanceRecord } from "../../protocol/model";
import type { Urls } from "../urls";
import { ResourceJson, pick, resource } from "./resource";
import { withoutSecrets } from "./spec-secrets";

/** The fields an instance shows (an allow-list). */
const FIELDS = [
  "envId", "kind", "serviceId", "stackId", "hostId", "name", "index", "specVersion", "spec", "ip", "state", "status",
  "healthState", "healthReason", "healthChangedAt", "healthCheckers", "attempt", "backoffUntil", "stopping", "createdAt", "rev",
] as const;

export function presentInstance(instance: InstanceRecord, urls: Urls): ResourceJson {
  const owner = instance.kind === "lb" ? "loadbalancers" : "services";
  return resource("instance", { id: instance.id, ...pick(instance, FIELDS), spec: withoutSecrets(instance.spec) }, {
    self: urls.env(instance.envId, "instances", instance.id),
    environment: urls.env(instance.envId),
    [instance.kind === "lb" ? "loadBalancer" : "service"]: urls.env(instance.envId, owner, instance.serviceId),
    stack: urls.env(instance.envId, "stacks", instance.stackId),
    host: urls.env(instance.envId, "hosts", instance.hostId),
  }, {
    // Each mints a one-use token for a websocket stream (handlers/instance-streams.ts).
    logs: urls.action(urls.env(instance.envId, "instances", instance.id), "logs"),
    execute: urls.action(urls.env(instance.envId, "instances", instance.id), "execute"),
  });
}
