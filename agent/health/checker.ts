/**
 * The agent's health checker: runs HostDesiredState.checks against the instances' overlay
 * addresses and keeps one verdict per target (HostObservedState.health).
 *
 * Built to run ~1,000 targets per host cheaply: one timer for everything, driven by one
 * min-heap of due times (a target waiting for its next check is keyed by when it is due, a
 * check in flight by its deadline, so timeouts need no timers of their own); each target's
 * first check is placed at a fixed offset in its interval from a hash of its id, so targets
 * handed over together do not fire together; one socket per check in flight, closed as soon
 * as the check has a result. "change" is emitted on verdict transitions and target-set
 * changes only, so the agent writes its report on transitions, not on every check.
 */
import { EventEmitter } from "events";
import { performance } from "perf_hooks";
import type { HealthCheckTarget, HealthVerdict } from "../../runtime/protocol/model";
import type { Logger } from "../log";
import { DueHeap, type DueItem } from "./due-heap";
import { timeoutReason } from "./fail-reason";
import { requestBytes } from "./http-request";
import { phaseOffset } from "./phase";
import { OpenSockets, Probe } from "./probe";
import { planChecks, type CheckPlan } from "./targets";
import { afterCheck, freshTally, toVerdict, type Tally } from "./verdict";

export interface HealthCheckerOptions {
  log: Logger;
  /** Clock for verdict times (`since`), injectable for tests; scheduling uses a monotonic clock. */
  now?: () => number;
}

/** Counters for tests, benchmarks and the agent's own diagnostics. */
export interface HealthCheckerStats {
  targets: number;
  /** Entries in the schedule: one per target (waiting or in flight), fewer only while deadlines are being judged. */
  scheduled: number;
  /** Checks with a socket open right now. */
  inFlight: number;
  /** Sockets not closed yet (in flight, or given up and closing). */
  openSockets: number;
  /** Checks finished since start: passed + failed. */
  checks: number;
  passed: number;
  failed: number;
}

/**
 * The timer fires at most once per TICK_MS; checks due within half a tick of a firing start
 * with it. At 1,000 checks/s that is ~100 wake-ups a second with ~10 checks each instead of
 * one wake-up (and one Timeout object) per check; a check starts at most ~5 ms off its slot.
 */
const TICK_MS = 10;
const START_SLACK_MS = TICK_MS / 2;

interface Entry extends DueItem {
  target: HealthCheckTarget;
  key: string;
  tally: Tally;
  probe: Probe;
  inFlight: boolean;
  /** When the current (or next) check was scheduled: the next one is due an interval later. */
  slot: number;
  timeoutReason: string;
}

export class HealthChecker extends EventEmitter {
  private readonly log: Logger;
  private readonly now: () => number;
  private entries = new Map<string, Entry>();
  private readonly heap = new DueHeap<Entry>();
  private readonly sockets = new OpenSockets();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  /** When the timer last fired: the next firing is at least TICK_MS later. */
  private firedAt = -Infinity;
  private stopped = false;
  private inFlight = 0;
  private passed = 0;
  private failed = 0;
  private readonly onTimer = () => this.runDue();
  /** Checks past their deadline, waiting for the I/O phase to have its say (see timeOutExpired). */
  private readonly expired: Entry[] = [];
  private expiry: NodeJS.Immediate | undefined;
  private readonly onExpired = () => this.timeOutExpired();

  constructor(opts: HealthCheckerOptions) {
    super();
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Replaces the set of targets. An unchanged target (same instance, address, container
   * start and checking fields) keeps its streak and verdict; a changed one starts over at
   * `pending`; a removed one is dropped at once, its socket closed. Throws a DroverError
   * naming the field (`checks[2].check.port`) when any target is invalid, changing nothing.
   */
  setTargets(targets: HealthCheckTarget[]): void {
    const plans = planChecks(targets);
    if (this.stopped) {
      this.log.debug("health checker stopped: targets ignored", { targets: plans.length });
      return;
    }
    const next = new Map<string, Entry>();
    let changed = false;
    for (const plan of plans) {
      const id = plan.target.instanceId;
      const old = this.entries.get(id);
      if (old && old.key === plan.key) {
        old.target = plan.target; // `local` and the server-side fields may change freely
        next.set(id, old);
        continue;
      }
      if (old) this.drop(old);
      next.set(id, this.add(plan));
      changed = true;
    }
    for (const [id, old] of this.entries) {
      if (next.has(id)) continue;
      this.drop(old);
      changed = true;
    }
    this.entries = next;
    this.arm();
    if (changed) {
      this.log.debug("health check targets set", { targets: next.size });
      this.emit("change");
    }
  }

  /** The current verdict of every current target, by instance id. */
  verdicts(): Record<string, HealthVerdict> {
    const out: Record<string, HealthVerdict> = {};
    for (const [id, e] of this.entries) out[id] = toVerdict(e.tally, e.target.startedAt);
    return out;
  }

  stats(): HealthCheckerStats {
    return {
      targets: this.entries.size,
      scheduled: this.heap.size,
      inFlight: this.inFlight,
      openSockets: this.sockets.count,
      checks: this.passed + this.failed,
      passed: this.passed,
      failed: this.failed,
    };
  }

  /** Stops every timer and closes every socket; resolves once the last socket has closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.expiry) clearImmediate(this.expiry);
    this.expiry = undefined;
    this.expired.length = 0;
    for (const e of this.entries.values()) {
      e.probe.abort();
      e.inFlight = false;
    }
    this.inFlight = 0;
    this.heap.clear();
    await this.sockets.drained();
  }

  private add(plan: CheckPlan): Entry {
    const t = plan.target;
    const c = t.check;
    const entry: Entry = {
      target: t,
      key: plan.key,
      tally: freshTally(this.now()),
      probe: undefined as unknown as Probe,
      inFlight: false,
      slot: performance.now() + phaseOffset(t.instanceId, c.interval),
      due: 0,
      heapIndex: -1,
      timeoutReason: timeoutReason(c.responseTimeout),
    };
    const request = plan.request ? requestBytes(plan.request, t.ip, c.port) : undefined;
    entry.probe = new Probe(t.ip, c.port, request, this.sockets, (reason) => this.onResult(entry, reason));
    entry.due = entry.slot;
    this.heap.push(entry);
    return entry;
  }

  private drop(e: Entry): void {
    this.heap.remove(e);
    if (e.inFlight) this.inFlight--;
    e.inFlight = false;
    e.probe.abort();
  }

  /** Keeps the one timer set for the earliest due entry (left alone when it fires earlier already). */
  private arm(): void {
    const top = this.heap.peek();
    if (!top) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      return;
    }
    const at = Math.max(top.due, this.firedAt + TICK_MS);
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    const now = performance.now();
    this.timerAt = Math.max(at, now);
    this.timer = setTimeout(this.onTimer, this.timerAt - now);
  }

  private runDue(): void {
    this.timer = undefined;
    const now = performance.now();
    this.firedAt = now;
    for (let e = this.heap.peek(); e; e = this.heap.peek()) {
      if (e.inFlight) {
        if (e.due > now) break;
        this.heap.pop();
        this.expired.push(e);
      } else {
        if (e.due > now + START_SLACK_MS) break;
        this.heap.pop();
        this.start(e, now);
      }
    }
    if (this.expired.length > 0 && !this.expiry) this.expiry = setImmediate(this.onExpired);
    this.arm();
  }

  /**
   * Deadlines that passed are judged after the loop's I/O phase, not in the timer callback:
   * when the agent's event loop was stalled (GC, a busy host), an answer that arrived in time
   * is still waiting in the poll phase, and must count as an answer, not as a timeout.
   */
  private timeOutExpired(): void {
    this.expiry = undefined;
    const now = performance.now();
    for (const e of this.expired) {
      if (!e.inFlight || e.heapIndex !== -1) continue; // answered, dropped or requeued meanwhile
      e.probe.abort();
      this.finish(e, e.timeoutReason, now);
    }
    this.expired.length = 0;
    this.arm();
  }

  private start(e: Entry, now: number): void {
    e.inFlight = true;
    this.inFlight++;
    e.due = now + e.target.check.responseTimeout;
    this.heap.push(e);
    e.probe.start();
  }

  /** A check answered (pass or fail) before its deadline. */
  private onResult(e: Entry, failReason: string | undefined): void {
    if (!e.inFlight) return;
    this.heap.remove(e);
    this.finish(e, failReason, performance.now());
    this.arm();
  }

  private finish(e: Entry, failReason: string | undefined, now: number): void {
    e.inFlight = false;
    this.inFlight--;
    if (failReason === undefined) this.passed++;
    else this.failed++;
    // Next check an interval after this one's slot; after a stall, as soon as possible (no burst to catch up).
    const interval = e.target.check.interval;
    e.slot = Math.max(e.slot + interval, now);
    e.due = e.slot;
    this.heap.push(e);

    const before = e.tally;
    e.tally = afterCheck(before, failReason, e.target.check, this.now());
    if (e.tally.state !== before.state) {
      this.log.info("health verdict changed", {
        instanceId: e.target.instanceId, ip: e.target.ip, from: before.state, state: e.tally.state, reason: e.tally.reason,
      });
      this.emit("change");
    }
  }
}
