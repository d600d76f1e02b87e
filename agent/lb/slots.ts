/**
 * Backend membership without reloads. Each backend is rendered with a fixed number of
 * server slots (`s1`..`sN`); instances move in and out of slots through the runtime API
 * (`set server <be>/<s> addr <ip> port <p>`, `set server <be>/<s> state ready|drain|maint`),
 * so HAProxy never reloads for a membership change. Only when a backend needs more slots
 * than it has is the config re-rendered bigger (a counted, logged reload).
 *
 * Pure: `planSlots` takes the slots as HAProxy reports them and the members as the
 * directory wants them, and returns the commands that make the first match the second.
 */

/** A server slot's administrative state (HAProxy's `set server ... state`). */
export type AdminState = "ready" | "drain" | "maint";

export interface SlotState {
  /** `s1`, `s2`, ... */
  name: string;
  addr: string;
  port: number;
  admin: AdminState;
}

/** One backend server the directory wants: a target instance's overlay address and the rule's target port. */
export interface Member {
  instanceId: string;
  addr: string;
  port: number;
  /** ready: takes new requests; drain: finishes what it has, takes no new ones; maint: takes nothing. */
  want: AdminState;
}

export interface PlannedSlot extends SlotState {
  /** The member now in this slot; absent for a free slot. */
  instanceId?: string;
}

export interface SlotPlan {
  /** Every slot as it will be once `commands` ran. */
  slots: PlannedSlot[];
  /** Runtime API commands, in order. */
  commands: string[];
  /** Members that want traffic but found no free slot: the backend needs more slots. */
  unplaced: Member[];
}

/** Address of a slot nobody has used yet (it stays in maint until a member takes it). */
export const FREE_ADDR = "0.0.0.0";

/** Slots for a backend: the next power of two ≥ max(8, 2 × members), so it can double before a reload. */
export function slotCountFor(members: number): number {
  let n = 8;
  while (n < 2 * members) n *= 2;
  return n;
}

export function slotName(index: number): string {
  return `s${index + 1}`;
}

export function freeSlots(count: number, port: number): SlotState[] {
  return Array.from({ length: count }, (_, i) => ({ name: slotName(i), addr: FREE_ADDR, port, admin: "maint" as const }));
}

const key = (addr: string, port: number) => `${addr}:${port}`;

export function planSlots(backend: string, current: SlotState[], members: Member[]): SlotPlan {
  const slots: PlannedSlot[] = current.map((s) => ({ ...s }));
  const commands: string[] = [];
  const slotByKey = new Map<string, PlannedSlot>();
  for (const s of slots) if (s.addr !== FREE_ADDR && !slotByKey.has(key(s.addr, s.port))) slotByKey.set(key(s.addr, s.port), s);

  // Members already in a slot (same address and port) stay where they are: an instance
  // never moves between slots, so its sticky cookie and its connections stay with it.
  const waiting: Member[] = [];
  const taken = new Set<PlannedSlot>();
  for (const m of members) {
    const s = slotByKey.get(key(m.addr, m.port));
    if (s && !taken.has(s)) {
      taken.add(s);
      s.instanceId = m.instanceId;
      setState(s, m.want);
    } else if (m.want === "ready") {
      // A member that wants no traffic and has no slot needs none (nothing to drain).
      waiting.push(m);
    }
  }

  // Free slots: maint ones first (never used or long vacated), lowest first.
  const free = slots.filter((s) => !taken.has(s)).sort((a, b) => (a.admin === "maint" ? 0 : 1) - (b.admin === "maint" ? 0 : 1));
  const unplaced: Member[] = [];
  for (const m of waiting) {
    const s = free.shift();
    if (!s) {
      unplaced.push(m);
      continue;
    }
    taken.add(s);
    s.instanceId = m.instanceId;
    if (s.addr !== m.addr || s.port !== m.port) {
      commands.push(`set server ${backend}/${s.name} addr ${m.addr} port ${m.port}`);
      s.addr = m.addr;
      s.port = m.port;
    }
    setState(s, m.want);
  }
  // Slots whose instance left the directory: no new requests (those in flight finish).
  for (const s of free) setState(s, "maint");
  return { slots, commands, unplaced };

  function setState(s: PlannedSlot, want: AdminState): void {
    if (s.admin === want) return;
    commands.push(`set server ${backend}/${s.name} state ${want}`);
    s.admin = want;
  }
}
