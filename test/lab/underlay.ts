import { HostNames, RunNames } from "./names";
import { run, runOk } from "./proc";

/**
 * The underlay: a bridge in its own "switch" namespace (not in the root namespace, where
 * bridge-nf-call-iptables and a root dockerd's FORWARD DROP would filter bridged frames),
 * one veth per host into it, and one veth leg into the root namespace holding the
 * gateway address <base>.1 so the test process can reach every host and be reached.
 */
export const PREFIX_LEN = 24;

export function gatewayIp(base: string): string {
  return `${base}.1`;
}

export function hostIp(base: string, index: number): string {
  return `${base}.${10 + index}`;
}

export async function createSwitch(names: RunNames, base: string): Promise<void> {
  const sw = names.switchNs;
  await runOk(["ip", "netns", "add", sw]);
  await runOk(["ip", "-n", sw, "link", "set", "lo", "up"]);
  await runOk(["ip", "-n", sw, "link", "add", names.bridge, "type", "bridge"]);
  await runOk(["ip", "-n", sw, "link", "set", names.bridge, "up"]);
  // Root leg: created in the root namespace under its unique name, peer moved straight into the switch.
  await runOk(["ip", "link", "add", names.rootLink, "type", "veth", "peer", "name", names.switchGwPort, "netns", sw]);
  await runOk(["ip", "-n", sw, "link", "set", names.switchGwPort, "master", names.bridge, "up"]);
  await runOk(["ip", "addr", "add", `${gatewayIp(base)}/${PREFIX_LEN}`, "dev", names.rootLink]);
  await runOk(["ip", "link", "set", names.rootLink, "up"]);
}

/** Creates the host's namespace and plugs it into the switch with <base>.<10+i>. */
export async function createHostLink(host: HostNames, base: string): Promise<string> {
  const names = host.run;
  const ip = hostIp(base, host.index);
  await runOk(["ip", "netns", "add", host.netns]);
  await runOk(["ip", "-n", host.netns, "link", "set", "lo", "up"]);
  // Both ends are created inside namespaces, so no temporary name in the root namespace can collide.
  await runOk(["ip", "-n", names.switchNs, "link", "add", host.switchPort, "type", "veth",
    "peer", "name", names.hostLink, "netns", host.netns]);
  await runOk(["ip", "-n", names.switchNs, "link", "set", host.switchPort, "master", names.bridge, "up"]);
  await runOk(["ip", "-n", host.netns, "addr", "add", `${ip}/${PREFIX_LEN}`, "dev", names.hostLink]);
  await runOk(["ip", "-n", host.netns, "link", "set", names.hostLink, "up"]);
  // The connected /24 already reaches the gateway; no default route (none is needed yet).
  return ip;
}

/**
 * Cuts or restores the host's cable by setting its switch port down or up. The host's own
 * eth0 keeps its address and routes (it only loses carrier), as a real pulled cable would;
 * setting eth0 itself down would delete the routes an agent installed.
 */
export async function setHostPort(host: HostNames, up: boolean): Promise<void> {
  await runOk(["ip", "-n", host.run.switchNs, "link", "set", host.switchPort, up ? "up" : "down"]);
}

/** Deletes the run's namespaces (named <prefix>*) and the root leg; missing ones are fine. */
export async function deleteUnderlay(names: RunNames): Promise<string[]> {
  const errors: string[] = [];
  const del = await run(["ip", "link", "del", names.rootLink]);
  if (del.code !== 0 && !/Cannot find device/.test(del.stderr)) errors.push(`ip link del ${names.rootLink}: ${del.stderr.trim()}`);
  for (const ns of await runNamespaces(names)) {
    const res = await run(["ip", "netns", "del", ns]);
    if (res.code !== 0) errors.push(`ip netns del ${ns}: ${res.stderr.trim()}`);
  }
  return errors;
}

export async function runNamespaces(names: RunNames): Promise<string[]> {
  const res = await runOk(["ip", "netns", "list"]);
  return res.stdout.split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(names.prefix));
}
