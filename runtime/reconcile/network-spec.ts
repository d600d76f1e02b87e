import { gatewayOf } from "../ipam";
import type { EnvironmentRecord, HostNetworkSpec, HostRecord, IpsecSpec, NetworkPeer } from "../protocol/model";

/** Hosts that take part in the overlay: a subnet, an underlay address, and not going away. */
function inMesh(h: HostRecord): h is HostRecord & { subnet: string; underlayIp: string } {
  return !!h.subnet && !!h.underlayIp && h.state !== "removing" && h.state !== "removed";
}

/**
 * Each host's part of the overlay, keyed by host id. A host's peers are every other mesh
 * host of the environment, whatever its liveness: a host that is only reconnecting keeps
 * its tunnels, so a short outage does not churn every peer's configuration. Pure.
 */
export function hostNetworkSpecs(
  env: EnvironmentRecord, hosts: HostRecord[], ipsec: IpsecSpec | undefined,
): Map<string, HostNetworkSpec> {
  const out = new Map<string, HostNetworkSpec>();
  if (!ipsec) return out;
  const mesh = hosts.filter(inMesh).sort((a, b) => a.id.localeCompare(b.id));
  const peers: NetworkPeer[] = mesh.map((h) => ({ hostId: h.id, name: h.name, underlayIp: h.underlayIp, subnet: h.subnet }));
  for (const h of hosts) {
    if (!h.subnet || h.state === "removing" || h.state === "removed") continue;
    const gateway = gatewayOf(h.subnet);
    if (!gateway) continue;
    out.set(h.id, {
      cidr: env.network.cidr,
      subnet: h.subnet,
      gateway,
      ...(h.underlayIp ? { underlayIp: h.underlayIp } : {}),
      peers: peers.filter((p) => p.hostId !== h.id),
      ipsec: { pskId: ipsec.pskId, psk: ipsec.psk },
    });
  }
  return out;
}
