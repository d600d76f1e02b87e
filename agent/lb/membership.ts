/**
 * Which servers a backend should have, from the environment's directory document (the same
 * one DNS answers from, so both follow one truth about health). Pure.
 *
 * A target instance is `ready` when running and not unhealthy (`healthy` absent means no
 * health check: running suffices); `drain` when it is being stopped on purpose (requests in
 * flight finish, no new ones); `maint` when not running or unhealthy. Instances gone from the
 * directory are simply not members: planSlots puts their slots in maint.
 */
import { isIPv4 } from "net";
import type { DnsDirectory, DnsInstance } from "../../runtime/protocol/dns";
import type { BackendPlan } from "./routing";
import type { AdminState, Member } from "./slots";

export function wantedState(i: DnsInstance): AdminState {
  if (!i.running || i.healthy === false) return "maint";
  if (i.draining) return "drain";
  return "ready";
}

export function membersOf(backend: Pick<BackendPlan, "targets">, directory: DnsDirectory | undefined): Member[] {
  if (!directory) return [];
  const out: Member[] = [];
  const seen = new Set<string>();
  for (const target of backend.targets) {
    for (const i of directory.instances) {
      // The overlay is IPv4; anything else could not be written into a server line.
      if (i.serviceId !== target.serviceId || !isIPv4(i.ip)) continue;
      const k = `${i.ip}:${target.port}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ instanceId: i.id, addr: i.ip, port: target.port, want: wantedState(i) });
    }
  }
  // A stable order, so two agents (or two runs) fill slots the same way.
  return out.sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : a.port - b.port));
}
