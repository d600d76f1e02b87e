/**
 * Watches a running HAProxy from outside, the way a benchmark can trust: its backends'
 * servers read from the runtime socket (`show servers state`) every few milliseconds, and
 * its master's process list (`show proc`) now and then. From those it keeps:
 *
 * - every server entering or leaving a backend's serving set (admin state `ready`, not a
 *   free slot): the membership changes the load balancer actually made, with their times;
 * - the worker pids seen and the master's own reload counter: a reload shows as a new
 *   worker whatever the agent reports.
 *
 * Read-only: it sends HAProxy no command that changes anything.
 */
import { parseServersState, parseShowProc, ServerState } from "../../agent/lb/cli-answers";
import { cliCommand } from "../../agent/lb/cli-socket";
import { FREE_ADDR } from "../../agent/lb/slots";

export interface MembershipEvent {
  /** Epoch ms of the poll that saw it. */
  t: number;
  backend: string;
  /** `addr:port` of the server. */
  server: string;
  kind: "enter" | "leave";
}

export interface BackendWatchOptions {
  runtimeSocket: string;
  masterSocket: string;
  /** The backends whose membership is followed. */
  backends: string[];
  /** Between two `show servers state` polls (default 50 ms). */
  pollMs?: number;
  /** Between two `show proc` polls (default 1000 ms). */
  procPollMs?: number;
}

/** A server in the serving set: takes new requests. */
export function serving(s: ServerState): boolean {
  return s.admin === "ready" && s.addr !== FREE_ADDR;
}

/** The events that turn serving set `before` into `after` (pure). */
export function membershipDiff(backend: string, before: Set<string>, after: Set<string>, t: number): MembershipEvent[] {
  const out: MembershipEvent[] = [];
  for (const s of before) if (!after.has(s)) out.push({ t, backend, server: s, kind: "leave" });
  for (const s of after) if (!before.has(s)) out.push({ t, backend, server: s, kind: "enter" });
  return out;
}

export class BackendWatch {
  readonly events: MembershipEvent[] = [];
  private readonly sets = new Map<string, Set<string>>();
  private readonly slotCounts = new Map<string, number>();
  readonly workerPids = new Set<number>();
  /** The master's reload counter at the first and the last `show proc` read. */
  masterReloads?: { first: number; last: number };
  polls = 0;
  pollErrors = 0;
  lastPollError?: string;
  /** The longest time between two successful polls (how fine the event times are). */
  maxPollGapMs = 0;
  private lastPollAt = 0;
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly opts: BackendWatchOptions) {
    for (const b of opts.backends) this.sets.set(b, new Set());
  }

  /** Reads the current state once (so the starting set is not counted as changes), then keeps polling. */
  async start(): Promise<void> {
    await this.pollServers(false);
    await this.pollProc();
    this.loops = [
      this.loop(this.opts.pollMs ?? 50, () => this.pollServers(true)),
      this.loop(this.opts.procPollMs ?? 1000, () => this.pollProc()),
    ];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /** The servers now serving in `backend`. */
  servingNow(backend: string): Set<string> {
    return new Set(this.sets.get(backend) ?? []);
  }

  /** Number of server slots HAProxy has for `backend` (enter/leave happen inside them). */
  slotCount(backend: string): number {
    return this.slotCounts.get(backend) ?? 0;
  }

  /** Enter and leave events of `backend` within [from, to). */
  changes(backend: string, from = 0, to = Infinity): number {
    return this.events.filter((e) => e.backend === backend && e.t >= from && e.t < to).length;
  }

  private async loop(everyMs: number, fn: () => Promise<void>): Promise<void> {
    while (!this.stopped) {
      await new Promise((r) => setTimeout(r, everyMs));
      if (!this.stopped) await fn();
    }
  }

  private async pollServers(record: boolean): Promise<void> {
    let servers: ServerState[];
    try {
      servers = parseServersState(await cliCommand(this.opts.runtimeSocket, "show servers state", 2000));
    } catch (err) {
      // A reload swaps the worker that owns the socket; the next poll reads the new one.
      this.pollErrors++;
      this.lastPollError = (err as Error).message;
      return;
    }
    const now = Date.now();
    if (this.lastPollAt) this.maxPollGapMs = Math.max(this.maxPollGapMs, now - this.lastPollAt);
    this.lastPollAt = now;
    this.polls++;
    for (const backend of this.opts.backends) {
      const own = servers.filter((s) => s.backend === backend);
      this.slotCounts.set(backend, own.length);
      const next = new Set(own.filter(serving).map((s) => `${s.addr}:${s.port}`));
      if (record) this.events.push(...membershipDiff(backend, this.sets.get(backend)!, next, now));
      this.sets.set(backend, next);
    }
  }

  private async pollProc(): Promise<void> {
    try {
      const info = parseShowProc(await cliCommand(this.opts.masterSocket, "show proc", 2000));
      for (const pid of info.workers) this.workerPids.add(pid);
      this.masterReloads = { first: this.masterReloads?.first ?? info.reloads, last: info.reloads };
    } catch (err) {
      this.pollErrors++;
      this.lastPollError = (err as Error).message;
    }
  }
}
