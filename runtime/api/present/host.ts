import type { HostRecord } from "../../protocol/model";
import type { Urls } from "../urls";
import { ResourceJson, actionLinks, resource } from "./resource";

export function hostActions(host: HostRecord): string[] {
  if (host.state === "removing" || host.state === "removed") return [];
  return [host.deactivated ? "activate" : "deactivate"];
}

/** DELETE is allowed once the host is deactivated or its agent is gone. */
export function hostRemovable(host: HostRecord): boolean {
  return host.deactivated || host.state !== "active";
}

export function presentHost(host: HostRecord, urls: Urls): ResourceJson {
  const self = urls.env(host.envId, "hosts", host.id);
  return resource("host", host, {
    self,
    environment: urls.env(host.envId),
    instances: urls.to(["environments", host.envId, "instances"], { hostId: host.id }),
  }, actionLinks(self, hostActions(host)));
}
