import type Docker from "dockerode";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import type { HostNetworkSpec } from "../../runtime/protocol/model";
import type { Logger } from "../log";

/** The Docker network containers with an overlay address join, and its bridge device. */
export const overlayNetworkName = "drover";
export const overlayBridgeName = "drover0";

/** What the network must look like; a difference means remove and create again. */
export function networkMatches(info: Docker.NetworkInspectInfo, spec: Pick<HostNetworkSpec, "subnet" | "gateway">): boolean {
  const config = info.IPAM?.Config ?? [];
  return info.Driver === "bridge"
    && config.length === 1 && config[0].Subnet === spec.subnet && config[0].Gateway === spec.gateway
    && info.Options?.["com.docker.network.bridge.name"] === overlayBridgeName;
}

export function networkCreateOptions(spec: Pick<HostNetworkSpec, "subnet" | "gateway">): Docker.NetworkCreateOptions {
  return {
    Name: overlayNetworkName,
    Driver: "bridge",
    CheckDuplicate: true,
    IPAM: { Driver: "default", Config: [{ Subnet: spec.subnet, Gateway: spec.gateway }] },
    // A fixed device name, so the host's routes and rules can name it.
    Options: { "com.docker.network.bridge.name": overlayBridgeName },
    Labels: { [containerLabels.managed]: "true" },
  };
}

/** The host's overlay bridge as a user-defined Docker network: created, or recreated when the subnet changed. */
export class OverlayBridge {
  constructor(private readonly docker: Docker, private readonly log: Logger) {}

  /** Returns true when the network was (re)created. */
  async ensure(spec: Pick<HostNetworkSpec, "subnet" | "gateway">): Promise<boolean> {
    const info = await this.inspect();
    if (info && networkMatches(info, spec)) return false;
    if (info) {
      this.log.info("overlay network changed: recreating it", { network: overlayNetworkName, subnet: spec.subnet, was: info.IPAM?.Config?.[0]?.Subnet });
      await this.remove();
    }
    await this.docker.createNetwork(networkCreateOptions(spec));
    this.log.info("created overlay network", { network: overlayNetworkName, subnet: spec.subnet, gateway: spec.gateway, bridge: overlayBridgeName });
    return true;
  }

  /** Disconnects whatever is attached (those containers are recreated with new addresses anyway) and removes it. */
  async remove(): Promise<void> {
    const info = await this.inspect();
    if (!info) return;
    const net = this.docker.getNetwork(info.Id);
    for (const id of Object.keys(info.Containers ?? {})) {
      await net.disconnect({ Container: id, Force: true }).catch(() => undefined);
    }
    try {
      await net.remove();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
  }

  private async inspect(): Promise<Docker.NetworkInspectInfo | undefined> {
    try {
      return await this.docker.getNetwork(overlayNetworkName).inspect();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }
}
