import type { HostNetworkStatus, HostRecord } from "../../protocol/model";
import type { Urls } from "../urls";
import { ResourceJson, actionLinks, pick, resource } from "./resource";

/** The fields a host shows (an allow-list: the machine id, a host's identity, is not one of them). */
const FIELDS = [
  "envId", "name", "labels", "underlayIp", "subnet", "state", "deactivated", "agentVersion", "dockerVersion", "kernelVersion",
  "reconnectingSince", "configDownloadedAt", "createdAt", "rev",
] as const;

export function hostActions(host: HostRecord): string[] {
  if (host.state === "removing" || host.state === "removed") return [];
  return [host.deactivated ? "activate" : "deactivate"];
}

/** DELETE is allowed once the host is deactivated or its agent is gone. */
export function hostRemovable(host: HostRecord): boolean {
  return host.deactivated || host.state !== "active";
}

/**
 * A host as the API shows it. `network` is the agent's own account of its overlay (how ESP is
 * done, charon, the loaded key's id, a tunnel per peer), absent until the agent reported one;
 * `network.peers` names each tunnel's peer host.
 */
export function presentHost(host: HostRecord, urls: Urls, network?: HostNetworkStatus, peerNames: Record<string, string> = {}): ResourceJson {
  const self = urls.env(host.envId, "hosts", host.id);
  const shown: Record<string, unknown> & { id: string } = { id: host.id, ...pick(host, FIELDS) };
  if (network) shown.network = { ...network, peers: Object.fromEntries(Object.keys(network.tunnels).map((id) => [id, peerNames[id] ?? id])) };
  return resource("host", shown, {
    self,
    environment: urls.env(host.envId),
    instances: urls.to(["environments", host.envId, "instances"], { hostId: host.id }),
  }, actionLinks(self, hostActions(host)));
}
