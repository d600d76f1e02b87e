import type { HostNetworkSpec, NetworkPeer } from "../../runtime/protocol/model";
import { parseCidr } from "../../runtime/protocol/cidr";
import { ipv4ToInt } from "../../runtime/protocol/ipv4-address";
import type { ViciMessage } from "./vici/wire";

/**
 * What this host's charon is told, pure: its strongswan.conf, one vici `load-conn` per peer
 * and the environment's PSK as one `load-shared`. Every agent builds the mirror image of its
 * peers' connections, so both ends always agree on proposals and traffic selectors.
 */

export type EspMode = "kernel" | "libipsec";

/** IKE and ESP algorithms: AES-GCM for ESP (userspace libipsec and kernels with GCM both do it). */
export const ikeProposals = ["aes128-sha256-x25519"];
export const espProposals = ["aes128gcm16"];

/** Plugins charon loads; `kdf` is needed for the PRF+ (else "key derivation failed"). */
export function charonPlugins(mode: EspMode): string[] {
  return [
    "random", "nonce", "openssl", "pem", "pkcs1", "x509", "pubkey", "curve25519", "sha1", "sha2", "hmac", "kdf",
    "gcm", "aes", "socket-default", "vici",
    // libipsec before kernel-netlink: it must take the IPsec part, netlink keeps routes and addresses.
    ...(mode === "libipsec" ? ["kernel-libipsec"] : []),
    "kernel-netlink",
  ];
}

/** strongswan.conf for the agent's own charon (selected through STRONGSWAN_CONF). */
export function charonConf(opts: { mode: EspMode; viciSocket: string; logFile: string }): string {
  return [
    "# Written by the drover agent; rewritten at every charon start.",
    "charon {",
    `  load = ${charonPlugins(opts.mode).join(" ")}`,
    "  install_routes = yes",
    // Short retransmits: a dead peer is found in ~12 s (DPD every 2 s), a returning one retried quickly.
    "  retransmit_timeout = 1.0",
    "  retransmit_base = 1.4",
    "  retransmit_tries = 4",
    "  retransmit_limit = 4",
    "  plugins {",
    `    vici { socket = unix://${opts.viciSocket} }`,
    "  }",
    "  syslog { daemon { default = -1 } }",
    "  filelog {",
    "    drover {",
    `      path = ${opts.logFile}`,
    "      default = 1",
    "      time_format = %F %T",
    "      append = yes",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
}

/** The vici name of the connection (and its child) to one peer. */
export function connName(peer: Pick<NetworkPeer, "hostId">): string {
  return `peer-${peer.hostId}`;
}

/** The peer a connection name stands for (undefined for a name drover did not make). */
export function peerOfConn(name: string): string | undefined {
  return name.startsWith("peer-") ? name.slice(5) : undefined;
}

/** The `load-conn` message for the tunnel to `peer`: IKEv2, PSK with underlay ids, ESP in UDP. */
export function peerConnection(spec: HostNetworkSpec, peer: NetworkPeer): ViciMessage {
  const local = requireUnderlay(spec);
  const name = connName(peer);
  // After an outage only one end may re-make the tunnel: two ends restarting at once leave
  // duplicate CHILD SAs behind, and after a few cuts traffic stops though both report `up`.
  // The end with the lower underlay address restarts; the other clears and waits. Both still
  // initiate when charon (re)starts, so a restarted charon has its tunnels back at once.
  const restarts = ipv4Number(local) < ipv4Number(peer.underlayIp);
  return {
    [name]: {
      version: "2",
      local_addrs: [local],
      remote_addrs: [peer.underlayIp],
      // libipsec only does ESP in UDP; forcing it everywhere keeps one wire format (UDP 4500).
      encap: "yes",
      // MOBIKE would send an address update on every container start (bridge address churn).
      mobike: "no",
      dpd_delay: "2s",
      keyingtries: "0",
      // Both ends initiate, and after an outage both retry: without this, duplicate SAs pile
      // up with every outage until traffic stops flowing. A newer SA replaces older ones.
      unique: "replace",
      proposals: ikeProposals,
      local: { auth: "psk", id: local },
      remote: { auth: "psk", id: peer.underlayIp },
      children: {
        [name]: {
          local_ts: [spec.subnet],
          remote_ts: [peer.subnet],
          // A fixed reqid per peer: left to charon, kernel-libipsec was seen after an outage
          // with two peers' SAs under one reqid, sending one peer's traffic into the other's SA.
          reqid: String(reqidFor(spec.cidr, peer.subnet)),
          esp_proposals: espProposals,
          mode: "tunnel",
          // Both ends initiate: `trap` never negotiates with kernel-libipsec.
          start_action: "start",
          dpd_action: restarts ? "restart" : "clear",
          // Not "restart": an SA closed by the peer (replaced by a newer one, or the peer
          // shutting down, which initiates again itself when it is back) must not be re-made.
          close_action: "none",
        },
      },
    },
  };
}

/** The id under which the environment key is loaded (one key for the whole mesh). */
export const pskId = "drover-psk";

/** `load-shared` for the environment PSK, owned by this host's and every peer's underlay id. */
export function sharedSecret(spec: HostNetworkSpec): ViciMessage {
  const local = requireUnderlay(spec);
  return { id: pskId, type: "IKE", data: spec.ipsec.psk, owners: [local, ...spec.peers.map((p) => p.underlayIp)] };
}

/** A fingerprint of a connection message, to tell which peers' connections changed (no secret inside). */
export function connFingerprint(conn: ViciMessage): string {
  return JSON.stringify(conn);
}

/** Checks the parts of the spec the IPsec side relies on; the error names the field. */
export function validateIpsecSpec(spec: HostNetworkSpec): void {
  requireUnderlay(spec);
  if (!spec.ipsec || typeof spec.ipsec.psk !== "string" || spec.ipsec.psk.length < 16) throw new Error("network.ipsec.psk missing or shorter than 16 characters");
  if (typeof spec.ipsec.pskId !== "string" || !spec.ipsec.pskId) throw new Error("network.ipsec.pskId missing");
  for (const [i, p] of spec.peers.entries()) {
    if (!p.hostId || !/^[A-Za-z0-9_.-]+$/.test(p.hostId)) throw new Error(`network.peers[${i}].hostId ${JSON.stringify(p.hostId)} is not a valid id`);
    if (!isIpv4(p.underlayIp)) throw new Error(`network.peers[${i}].underlayIp ${JSON.stringify(p.underlayIp)} is not an IPv4 address`);
    if (!isCidr(p.subnet)) throw new Error(`network.peers[${i}].subnet ${JSON.stringify(p.subnet)} is not a CIDR`);
  }
}

function requireUnderlay(spec: HostNetworkSpec): string {
  if (!spec.underlayIp || !isIpv4(spec.underlayIp)) throw new Error(`network.underlayIp ${JSON.stringify(spec.underlayIp)} is not an IPv4 address: peers could not reach this host`);
  return spec.underlayIp;
}

/**
 * The reqid of the tunnel to the peer with `subnet`: its subnet's position within the
 * environment's range, plus one (reqid 0 means "any"). Unique per peer, the same on every
 * pass, whichever peers come and go.
 */
export function reqidFor(cidr: string, subnet: string): number {
  const [base] = cidr.split("/");
  const [net, len] = subnet.split("/");
  const offset = ipv4Number(net) - ipv4Number(base);
  if (offset < 0) throw new Error(`peer subnet ${subnet} is outside the overlay range ${cidr}`);
  return Math.floor(offset / 2 ** (32 - Number(len))) + 1;
}

function ipv4Number(ip: string): number {
  const n = ipv4ToInt(ip);
  if (n === undefined) throw new Error(`${JSON.stringify(ip)} is not an IPv4 address`);
  return n;
}

export function isIpv4(s: unknown): s is string {
  return typeof s === "string" && ipv4ToInt(s) !== undefined;
}

export function isCidr(s: unknown): s is string {
  return typeof s === "string" && parseCidr(s) !== undefined;
}
