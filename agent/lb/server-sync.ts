/**
 * One membership sync of a running HAProxy: read its servers (`show servers state`), plan
 * each backend's slots from the directory (slots.ts), send the commands in one runtime API
 * connection, and read the servers back for the status. Never a reload; members that found
 * no free slot are counted so the caller can build bigger backends.
 */
import type { DnsDirectory } from "../../runtime/protocol/dns";
import type { LoadBalancerInstanceStatus } from "../../runtime/protocol/model";
import type { Logger } from "../log";
import { cliBatch, cliCommand } from "./cli-socket";
import { parseServersState, ServerState } from "./cli-answers";
import { membersOf } from "./membership";
import type { RoutingPlan } from "./routing";
import { PlannedSlot, planSlots, SlotState } from "./slots";

type Backends = LoadBalancerInstanceStatus["backends"];

export interface SyncResult {
  /** Backend → its slots as HAProxy reports them after the sync. */
  slots: Record<string, SlotState[]>;
  /** Backend → target instance → server state, for the status. */
  backends: Backends;
  /** Members that want traffic but found no free slot. */
  unplaced: number;
}

export async function readServers(runtimeSocket: string): Promise<Map<string, ServerState[]>> {
  const servers = parseServersState(await cliCommand(runtimeSocket, "show servers state"));
  const byBackend = new Map<string, ServerState[]>();
  for (const s of servers) byBackend.set(s.backend, [...(byBackend.get(s.backend) ?? []), s]);
  return byBackend;
}

export function slotsOf(servers: Map<string, ServerState[]>): Record<string, SlotState[]> {
  return Object.fromEntries([...servers].map(([be, list]) => [be, list.map(({ name, addr, port, admin }) => ({ name, addr, port, admin }))]));
}

export async function syncServers(runtimeSocket: string, routing: RoutingPlan | undefined, directory: DnsDirectory | undefined, log: Logger): Promise<SyncResult> {
  const observed = await readServers(runtimeSocket);
  const commands: string[] = [];
  const assigned: Record<string, PlannedSlot[]> = {};
  let unplaced = 0;
  for (const be of routing?.backends ?? []) {
    const current = observed.get(be.name);
    if (!current) continue; // not in the running config (a reload is pending or was refused)
    const plan = planSlots(be.name, current, membersOf(be, directory));
    commands.push(...plan.commands);
    assigned[be.name] = plan.slots;
    unplaced += plan.unplaced.length;
  }
  let final = observed;
  if (commands.length > 0) {
    const answers = await cliBatch(runtimeSocket, commands);
    // `set server ... state` answers nothing; `... addr` says what changed.
    const failed = answers.map((a, i) => ({ command: commands[i], answer: a.trim() }))
      .filter((x) => x.answer !== "" && !/^IP changed|^no need to change/i.test(x.answer));
    if (failed.length) log.warn("haproxy runtime API refused commands", { failed: failed.slice(0, 5) });
    log.debug("backend servers moved", { commands: commands.length });
    final = await readServers(runtimeSocket);
  }
  return { slots: slotsOf(final), backends: backendStatus(assigned, final), unplaced };
}

/** Backend → target instance → what HAProxy says of its server. */
function backendStatus(assigned: Record<string, PlannedSlot[]>, observed: Map<string, ServerState[]>): Backends {
  const out: Backends = {};
  for (const [be, slots] of Object.entries(assigned)) {
    const servers = observed.get(be) ?? [];
    const entry: Backends[string] = {};
    for (const slot of slots) {
      if (!slot.instanceId) continue;
      const s = servers.find((x) => x.name === slot.name);
      if (!s) continue;
      // One instance behind two target ports of the same backend: the second is keyed with its port.
      const key = entry[slot.instanceId] === undefined ? slot.instanceId : `${slot.instanceId}:${slot.port}`;
      entry[key] = s.admin === "maint" ? "maint" : s.admin === "drain" ? "draining" : s.up ? "up" : "down";
    }
    out[be] = entry;
  }
  return out;
}
