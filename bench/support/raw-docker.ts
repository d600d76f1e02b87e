/**
 * The raw side of a drover-vs-Docker benchmark, kept in step with the agent: the agent's own
 * create options (agent/docker/container-config.ts: the `drover` bridge network, a static
 * overlay address, drover's DNS) and the agent's own parallelism (agent/docker/concurrency.ts),
 * so the only difference left is drover's control plane.
 */
import type Docker from "dockerode";
import { performance } from "perf_hooks";
import { createOptions } from "../../agent/docker/container-config";
import { dockerConcurrency } from "../../agent/docker/concurrency";
import { forEachLimited } from "../../agent/limited";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import type { DesiredInstance } from "../../runtime/protocol/model";
import { intToIpv4 } from "../../runtime/protocol/ipv4-address";
import { lastAddress, parseCidr } from "../../runtime/protocol/cidr";

/** Where a raw container goes and what it is called; everything else comes from a drover instance. */
export interface RawContainer {
  name: string;
  /** Its overlay address on the host's `drover` network. */
  ip: string;
}

/**
 * The create options the agent would use for `template` (an instance drover itself placed,
 * read from a desired document), under another name and address. Marked unmanaged, with its
 * own environment and instance labels, so no agent ever lists, adopts or removes it.
 */
export function rawCreateOptions(template: DesiredInstance, hostId: string, raw: RawContainer): Docker.ContainerCreateOptions {
  if (!template.ip) throw new Error(`instance ${template.id}: no overlay address (ip), so it is not on the drover network: expected a host with a subnet`);
  const instance: DesiredInstance = { ...template, id: `raw-${raw.name}`, name: raw.name, ip: raw.ip };
  const options = createOptions(instance, { envId: "raw-bench", hostId });
  options.Labels = { ...options.Labels, [containerLabels.managed]: "false" };
  return options;
}

/**
 * `count` addresses of `subnet` from its top down (below the broadcast address), where IPAM,
 * which hands out the lowest free address first, would come last: raw containers never take
 * an address a drover instance could be given.
 */
export function topAddresses(subnet: string, count: number): string[] {
  const c = parseCidr(subnet);
  if (!c) throw new Error(`subnet ${JSON.stringify(subnet)}: expected an IPv4 CIDR such as 10.42.1.0/24`);
  const top = lastAddress(c) - 1;
  // .0 is the network, .1 the bridge's gateway: the lowest usable instance address is base + 2.
  if (count < 0 || top - count + 1 < c.base + 2) throw new Error(`subnet ${subnet}: no room for ${count} addresses (expected 0..${top - c.base - 1})`);
  return Array.from({ length: count }, (_, k) => intToIpv4(top - k));
}

/** Per-call Docker times, in ms. */
export interface OpTimes { create: number[]; start: number[] }

/**
 * Creates and starts every container on one host the way the agent applies its actions:
 * at most `dockerConcurrency` at once, each one created then started. Resolves with their ids.
 */
export async function createAndStartAll(docker: Docker, all: Docker.ContainerCreateOptions[], ops?: OpTimes): Promise<string[]> {
  const ids: string[] = [];
  await forEachLimited(all, dockerConcurrency, async (options) => {
    const a = performance.now();
    const c = await docker.createContainer(options);
    ids.push(c.id);
    const b = performance.now();
    await c.start();
    ops?.create.push(b - a);
    ops?.start.push(performance.now() - b);
  });
  return ids;
}
