import type { InstanceRecord } from "../../protocol/model";
import type { Urls } from "../urls";
import { ResourceJson, resource } from "./resource";

export function presentInstance(instance: InstanceRecord, urls: Urls): ResourceJson {
  return resource("instance", instance, {
    self: urls.env(instance.envId, "instances", instance.id),
    environment: urls.env(instance.envId),
    service: urls.env(instance.envId, "services", instance.serviceId),
    stack: urls.env(instance.envId, "stacks", instance.stackId),
    host: urls.env(instance.envId, "hosts", instance.hostId),
  }, {});
}
