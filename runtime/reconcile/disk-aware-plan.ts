/**
 * Free disk matters only where a pass places something, and reading every host's latest stats
 * sample (its containers' figures included) on every pass would cost the most on the largest
 * environments, where passes place nothing most of the time. So a pass plans first without
 * the figures; only when that plan places new instances are the figures of the hosts it
 * placed on read (one pipelined read: 20-120 ms for 1,000 hosts on this shared 2-core machine),
 * and only when one of them is short of disk are the others read and the plan made again with
 * all of them, so the scheduler avoids the full hosts (planning is pure: the first plan is
 * simply dropped).
 */
import type { HostRecord } from "../protocol/model";
import { dockerDiskShortage } from "../scheduler";
import type { DockerDiskFigures } from "./cluster-snapshot";
import { planEnvironment } from "./plan";
import type { Plan, PlanInput } from "./plan-types";

export async function planWithDockerDisk(
  input: PlanInput, readDockerDisk: (hostIds: string[]) => Promise<DockerDiskFigures>,
): Promise<{ plan: Plan; dockerDisk: DockerDiskFigures }> {
  const first = planEnvironment(input);
  const placedOn = newInstanceHosts(first, input);
  if (placedOn.size === 0) return { plan: first, dockerDisk: {} };
  const hosts = input.snapshot.hosts;
  const dockerDisk = await readDockerDisk(hosts.filter((h) => placedOn.has(h.id)).map((h) => h.id));
  if (!hosts.some((h) => placedOn.has(h.id) && isShort(h, dockerDisk))) return { plan: first, dockerDisk };
  const rest = hosts.filter((h) => !placedOn.has(h.id)).map((h) => h.id);
  if (rest.length > 0) Object.assign(dockerDisk, await readDockerDisk(rest));
  return { plan: planEnvironment({ ...input, dockerDisk }), dockerDisk };
}

/** Hosts that get an instance the snapshot does not hold yet. Pure. */
export function newInstanceHosts(plan: Plan, input: PlanInput): Set<string> {
  const known = new Set(input.snapshot.instances.map((i) => i.id));
  const out = new Set<string>();
  for (const { kind, record } of plan.batch.put) {
    if (kind === "instance" && !known.has(record.id)) out.add((record as { hostId: string }).hostId);
  }
  return out;
}

function isShort(host: HostRecord, dockerDisk: DockerDiskFigures): boolean {
  return dockerDiskShortage(dockerDisk[host.id], host.labels) !== undefined;
}
