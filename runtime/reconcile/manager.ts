import type Redis from "ioredis";
import { streamField } from "../store/stream-fields";
import type { Keys } from "../protocol/keys";
import type { Store } from "../store/store";
import { isDroverError } from "../protocol/errors";
import { isTransientPassError, reconcileEnvironment } from "./env-reconciler";
import { applyReports, type ReportsSeen } from "./report-apply";
import type { HeartbeatBudget } from "../protocol/heartbeat-cadence";
import { afterOwnWrite, stillQuiet, type QuietState } from "./quiet";
import { newPassCache, type PassCache } from "./pass-cache";
import { freshReadPeriodMs } from "./fresh-read";
import { readStreams } from "../store/stream-read";

/** What the manager needs from the leader lease (runtime/store/leader-lease.ts). */
export interface LeaderLeaseApi {
  acquireOrRenew(envId: string, serverId: string, ttlMs: number): Promise<{ leader: boolean; fence?: number }>;
  release(envId: string, serverId: string): Promise<unknown>;
}

export interface ManagerOptions {
  store: Store;
  lease: LeaderLeaseApi;
  /** Shared connection for non-blocking commands. */
  redis: Redis;
  /** A connection of its own for the blocking XREAD. */
  blockingRedis: Redis;
  keys: Keys;
  serverId: string;
  graceMs: number;
  /** The hosts' heartbeat cadence and how far it stretches in large environments (absent: never stretched). */
  heartbeat?: HeartbeatBudget;
  /** Period of passes without any signal (liveness, lost nudges). */
  tickMs: number;
  /**
   * At least this often a full pass runs even on a quiet environment (quiet.ts skips the
   * others), as a safety net for anything its checks do not see. Default 30 s. The whole read
   * that drops the leader's cache comes at this pace in small environments, less often in
   * large ones (fresh-read.ts).
   */
  fullPassMs?: number;
  /** Records per base period of the whole read (fresh-read.ts; default RECORDS_PER_PERIOD): tests make it small. */
  freshReadRecordsPerPeriod?: number;
  leaseTtlMs: number;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

interface Led {
  fence: number;
  hostIds: string[];
  /** Set after a pass that planned nothing; cleared by any signal. */
  quiet?: QuietState;
  dirty: boolean;
  /** When the last pass ran or was skipped as quiet (the tick's clock). */
  lastPass: number;
  /** When the last full pass ran (the slower timer's clock). */
  lastFullPass: number;
  /** What the passes remember between them (pass-cache.ts). */
  cache: PassCache;
  /** When a pass last read everything afresh (cache dropped), every fullPassMs stretched with the environment's size (fresh-read.ts). */
  lastFreshRead: number;
  /** Whole reads forced by that timer, for tests and diagnostics. */
  freshReads: number;
  /** When the last plan said time alone makes the next pass do something (epoch ms). */
  wakeAt?: number;
  /** Failed passes in a row (non-transient errors), and when the first of them happened. */
  failures: number;
  failingSince?: string;
  /** No pass before this (epoch ms): the failure back-off, whatever signals arrive. */
  retryAt?: number;
  /** Passes in a row that lost the race to another write (RevisionMismatch, Unavailable). */
  races: number;
  /** Passes run, for tests and diagnostics. */
  passes: number;
  /** Ticks at which the pass was skipped because nothing it reads had changed (quiet.ts). */
  quietSkips: number;
  /** What the last pass read of each host's report (digests, instance ids), for applyReports. */
  seen: ReportsSeen;
  /** Host id → observed reports from it since the last pass (checked cheaply before any pass). */
  reported: Map<string, number>;
  /** Reports answered without a pass (their document repeated the last one read, or the incremental path settled it). */
  reportsAbsorbed: number;
  /** Instance records updated by the incremental path (no pass). */
  instancesApplied: number;
}

/** Back-off after a failed pass: 1 s, doubling, at most 5 minutes. */
export const FAILED_PASS_FIRST_MS = 1_000;
export const FAILED_PASS_MAX_MS = 300_000;
/** Pause before a pass that lost a race runs again: 50 ms, doubling, at most 1 s (with jitter). */
export const RACE_PAUSE_FIRST_MS = 50;
export const RACE_PAUSE_MAX_MS = 1_000;

/** Passes one environment may start in one turn of passesInTurn (the first, and one more for work that came meanwhile). */
const MAX_STARTS_PER_TURN = 2;

/** A loop step besides passes that takes longer than this is logged (slowStep). */
const SLOW_STEP_MS = 500;

/** Default ManagerOptions.fullPassMs. */
export const FULL_PASS_MS = 30_000;

export function failedPassBackoffMs(failures: number): number {
  return Math.min(FAILED_PASS_MAX_MS, FAILED_PASS_FIRST_MS * 2 ** Math.max(0, failures - 1));
}

/** An environment that may run a pass now (not backing off after failures). */
function runnable(led: Led, now: number): boolean {
  return led.retryAt === undefined || now >= led.retryAt;
}

/**
 * Runs the reconcilers of every environment this server leads. Each environment has its
 * own lease, so several servers share the work and a dead server's environments move to
 * another within one lease TTL. Passes run when something signals (an API write on the
 * environment's reconcile stream, an agent report) and at least every tick.
 *
 * One environment's failure is its own: a pass that fails with anything but a transient
 * error is recorded on that environment (`reconcileError`, shown by the API) and the
 * environment backs off (failedPassBackoffMs) while every other one keeps its pace.
 */
export class ReconcileManager {
  private running = false;
  private readonly led = new Map<string, Led>();
  private readonly streamIds = new Map<string, string>();
  /** The streams waitForSignal reads and whose they are; rebuilt when the led hosts change. */
  private watched?: { streams: string[]; owner: Map<string, { envId: string; hostId?: string }> };
  private loop?: Promise<void>;
  /** Resolves when the loop is idle waiting, for tests that want to observe progress. */
  passes = 0;

  constructor(private readonly o: ManagerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.o.blockingRedis.disconnect();
    await this.loop?.catch(() => undefined);
    for (const envId of this.led.keys()) await this.o.lease.release(envId, this.o.serverId).catch(() => undefined);
    this.led.clear();
  }

  /** Environment ids this server leads now. */
  leading(): string[] {
    return [...this.led.keys()];
  }

  /** Passes run on one environment since this server began leading it (0 when it does not). */
  passesOf(envId: string): number {
    return this.led.get(envId)?.passes ?? 0;
  }

  /** Whole reads of one environment the safety-net timer forced (cache dropped) since this server began leading it. */
  freshReadsOf(envId: string): number {
    return this.led.get(envId)?.freshReads ?? 0;
  }

  /** Ticks of one environment at which no pass ran because nothing it reads had changed. */
  quietSkipsOf(envId: string): number {
    return this.led.get(envId)?.quietSkips ?? 0;
  }

  /** Instance records of one environment updated from reports without a pass (report-apply.ts). */
  instancesAppliedOf(envId: string): number {
    return this.led.get(envId)?.instancesApplied ?? 0;
  }

  /** Observed reports of one environment answered without a pass (they changed nothing a pass reads). */
  reportsAbsorbedOf(envId: string): number {
    return this.led.get(envId)?.reportsAbsorbed ?? 0;
  }

  private async run(): Promise<void> {
    let lastLeaseCheck = 0;
    while (this.running) {
      try {
        const now = Date.now();
        if (now - lastLeaseCheck >= Math.min(this.o.tickMs, this.o.leaseTtlMs / 3)) {
          await this.slowStep("refresh leases", undefined, () => this.refreshLeases());
          lastLeaseCheck = now;
        }
        const due: Array<[string, Led]> = [];
        for (const [envId, led] of this.led) {
          if (!this.running) break;
          if (!runnable(led, Date.now())) continue;
          if (led.wakeAt !== undefined && Date.now() >= led.wakeAt) led.dirty = true;
          if (!led.dirty && led.reported.size > 0) await this.slowStep("check reports", envId, () => this.checkReports(envId, led));
          if (!led.dirty && Date.now() - led.lastPass < this.o.tickMs) continue;
          const fullPassDue = Date.now() - led.lastFullPass >= (this.o.fullPassMs ?? FULL_PASS_MS);
          if (!led.dirty && !fullPassDue && led.quiet && await this.isStillQuiet(envId, led, led.quiet)) {
            led.lastPass = Date.now();
            led.quietSkips++;
            continue;
          }
          due.push([envId, led]);
        }
        await this.passesInTurn(due);
        await this.slowStep("wait for a signal", undefined, () => this.waitForSignal(), this.o.tickMs + SLOW_STEP_MS);
      } catch (err) {
        if (!this.running) break;
        this.o.log("reconcile loop error", { error: (err as Error).message });
        await new Promise((r) => setTimeout(r, Math.min(1000, this.o.tickMs)));
      }
    }
  }

  /**
   * Runs one of the loop's steps besides passes, saying so when it took longer than `slowMs`:
   * every environment this server leads waits for it, and at scale (thousands of hosts
   * reporting, thousands of streams watched) such a step was seconds no log accounted for.
   */
  private async slowStep<T>(what: string, envId: string | undefined, step: () => Promise<T>, slowMs = SLOW_STEP_MS): Promise<T> {
    const t0 = Date.now();
    try {
      return await step();
    } finally {
      const ms = Date.now() - t0;
      if (ms > slowMs) this.o.log("reconcile loop step was slow", { step: what, ...(envId ? { envId } : {}), ms });
    }
  }

  private async refreshLeases(): Promise<void> {
    const envs = await this.o.store.listEnvironments();
    const seen = new Set<string>();
    for (const env of envs) {
      seen.add(env.id);
      const lease = await this.o.lease.acquireOrRenew(env.id, this.o.serverId, this.o.leaseTtlMs);
      const current = this.led.get(env.id);
      if (lease.leader && lease.fence !== undefined) {
        if (!current || current.fence !== lease.fence) {
          this.o.log("leading environment", { envId: env.id, fence: lease.fence });
          this.led.set(env.id, {
            fence: lease.fence, hostIds: [], dirty: true, lastPass: 0, lastFullPass: 0, cache: newPassCache(), lastFreshRead: Date.now(), freshReads: 0, failures: 0, races: 0, passes: 0, quietSkips: 0,
            seen: { observed: {}, observedRest: {}, hostInstances: {} }, reported: new Map(), reportsAbsorbed: 0, instancesApplied: 0,
          });
          this.watched = undefined;
        }
      } else if (current) {
        this.o.log("lost leadership", { envId: env.id });
        this.forget(env.id);
      }
    }
    for (const envId of [...this.led.keys()]) if (!seen.has(envId)) this.forget(envId);
  }

  private forget(envId: string): void {
    this.led.delete(envId);
    this.watched = undefined;
  }

  private async isStillQuiet(envId: string, led: Led, quiet: QuietState): Promise<boolean> {
    const short = Object.keys(quiet.diskShort ?? {});
    const [rev, heartbeats, dockerDisk] = await Promise.all([
      this.o.redis.get(this.o.keys.env(envId).rev),
      this.o.store.heartbeats(envId, led.hostIds),
      short.length ? this.o.store.dockerDisk(envId, short) : Promise.resolve({}),
    ]);
    return stillQuiet(quiet, Number(rev ?? 0), heartbeats, dockerDisk);
  }

  /**
   * Observed reports alone: settled without a pass where the incremental path can
   * (report-apply.ts: a repeated document costs a GET; a changed one that only updates
   * running containers' details a small write), a pass otherwise. Agents rewrite the document
   * after each of their reconciles, periodic ones included, so at scale most reports need
   * no pass over the environment.
   */
  private async checkReports(envId: string, led: Led): Promise<void> {
    const reports = [...led.reported.values()].reduce((a, b) => a + b, 0);
    const hosts = [...led.reported.keys()];
    led.reported.clear();
    const outcome = await applyReports(envId, hosts, led.seen, led.fence, this.o.store).catch((err) => {
      if (isTransientPassError(err) || (err as { code?: string }).code === "NotLeader") return { pass: (err as Error).message, updated: 0, rev: undefined };
      throw err;
    });
    if (outcome.pass !== undefined) {
      led.dirty = true;
      led.quiet = undefined;
      return;
    }
    led.reportsAbsorbed += reports;
    led.instancesApplied += outcome.updated;
    // Settled: what the incremental path wrote is what a pass would have written, so a quiet
    // environment stays quiet past its own write (only that one revision; any other write
    // still makes the next tick's check fail). Time-bound decisions keep their own triggers:
    // the plan's wakeAt, heartbeats checked every tick, reconnecting hosts never quiet.
    if (led.quiet && outcome.rev !== undefined) led.quiet = afterOwnWrite(led.quiet, outcome.rev);
  }

  /**
   * The due environments' passes, each starting once the one before has written its records:
   * the rest of that pass (the DNS and desired documents: thousands of small scripts, mostly
   * waiting on Redis) goes on beside the next one's read and plan. One after another, a server
   * leading two large environments placed the second only after the first's documents were
   * all written (bench scale: 2 to 3 s of 12). Not wholly side by side: two passes reading and
   * planning at once held both environments' records and plans together (+35 MB peak) for
   * no gain on a busy machine. An environment that gets work meanwhile joins the turn. All of
   * them end before the loop goes on.
   */
  private async passesInTurn(due: Array<[string, Led]>): Promise<void> {
    const running: Promise<void>[] = [];
    const inFlight = new Set<string>();
    const starts = new Map<string, number>();
    for (let next = due; next.length > 0;) {
      for (const [envId, led] of next) {
        inFlight.add(envId);
        starts.set(envId, (starts.get(envId) ?? 0) + 1);
        let recordsWritten!: () => void;
        const written = new Promise<void>((resolve) => { recordsWritten = resolve; });
        running.push(this.pass(envId, led, recordsWritten).finally(() => {
          recordsWritten();
          inFlight.delete(envId);
        }));
        await written;
      }
      // An environment written to while those passes read, planned and wrote starts now, not
      // after their documents: signals read once, without waiting (bench scale on a cluster: an
      // environment whose services landed 2 s into another's pass waited 8.7 s more for that
      // pass's desired documents). So does one whose own pass this turn has ended and that has
      // work again (its services landed after it read). Only explicit work (dirty) starts here,
      // and an environment at most twice a turn, so the loop's other work (reports, leases,
      // timers) keeps its pace.
      try {
        // The environments' own streams only (API writes, teardowns): not their hosts' thousands
        // of report streams, which the loop reads as before (all of them took 963 ms here at
        // 2,500 hosts, bench scale).
        await this.slowStep("read signals between passes", undefined, () => this.readSignals(1, "environments"));
      } catch (err) {
        // Not thrown to the loop: the passes under way must end before it goes on.
        this.o.log("reading signals between passes failed", { error: (err as Error).message });
        break;
      }
      const now = Date.now();
      next = [...this.led].filter(([envId, led]) => !inFlight.has(envId) && (starts.get(envId) ?? 0) < MAX_STARTS_PER_TURN && led.dirty && runnable(led, now));
    }
    // Every one ended (a pass records its own failures; anything else it threw is the loop's).
    const failed = (await Promise.allSettled(running)).find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  private async pass(envId: string, led: Led, onRecordsWritten?: () => void): Promise<void> {
    led.dirty = false;
    led.quiet = undefined;
    led.reported.clear();
    led.lastPass = Date.now();
    led.lastFullPass = led.lastPass;
    // The safety net reads everything, the kept records and documents included: whatever the
    // cache could have missed (a hand edit, a lost write) is taken in within fullPassMs, or a
    // few times that in a large environment (fresh-read.ts).
    const kept = led.cache.snapshot.records?.lists;
    const period = freshReadPeriodMs(this.o.fullPassMs ?? FULL_PASS_MS, (kept?.hosts.length ?? 0) + (kept?.instances.length ?? 0), this.o.freshReadRecordsPerPeriod);
    if (led.lastPass - led.lastFreshRead >= period) {
      led.cache = newPassCache();
      led.lastFreshRead = led.lastPass;
      led.freshReads++;
    }
    // A long pass (a large environment) must not outlive its lease: renew it meanwhile, so
    // the pass's fenced writes are not refused because this server lost leadership to itself.
    // The other environments this server leads too: their leases are otherwise renewed only
    // between passes, and with several large environments (or a starved CPU) they expired
    // during one long pass and moved between servers back and forth (bench scale).
    const renew = setInterval(() => {
      for (const id of [envId, ...[...this.led.keys()].filter((k) => k !== envId)]) {
        this.o.lease.acquireOrRenew(id, this.o.serverId, this.o.leaseTtlMs).catch(() => undefined);
      }
    }, Math.max(100, Math.floor(this.o.leaseTtlMs / 3)));
    try {
      const res = await reconcileEnvironment(envId, led.fence, {
        store: this.o.store, redis: this.o.redis, keys: this.o.keys, graceMs: this.o.graceMs, log: this.o.log,
        ...(this.o.heartbeat ? { heartbeat: this.o.heartbeat } : {}),
        ...(onRecordsWritten ? { onRecordsWritten } : {}),
      }, led.cache);
      this.passes++;
      led.passes++;
      // A pass that writes logs its figures (env-reconciler.ts); a long one that found nothing to do is said here.
      if (!res.changed && (res.timings.total ?? 0) > SLOW_STEP_MS) this.o.log("reconcile pass found nothing to do", { envId, fullRead: res.fullRead, ms: res.timings });
      led.races = 0;
      if (led.failures === 0) led.retryAt = undefined;
      if (led.failures > 0) await this.recovered(envId, led);
      if (!sameList(led.hostIds, res.hostIds)) this.watched = undefined;
      led.hostIds = res.hostIds;
      led.seen = { observed: res.observed, observedRest: res.observedRest, hostInstances: res.hostInstances };
      led.quiet = res.quiet;
      led.wakeAt = res.plan?.wakeAt;
      if (res.purged) this.forget(envId);
      // A pass that wrote something is followed by another: its own writes may enable more.
      else if (res.changed) led.dirty = true;
    } catch (err) {
      if (isTransientPassError(err)) {
        // Said once per pass: at scale a pass that keeps losing the race to other writes is
        // otherwise invisible (it plans, writes nothing, starts over).
        // Again after a short, growing pause: under a flood of writes (hosts registering by the
        // thousand) a pass run again at once lost again, each time after reading and planning
        // the whole environment; a pause lets the writes land together for one pass to take in.
        led.races++;
        const pause = Math.min(RACE_PAUSE_MAX_MS, RACE_PAUSE_FIRST_MS * 2 ** (led.races - 1)) * (0.5 + Math.random() / 2);
        this.o.log("reconcile pass raced another write; running it again", { envId, code: (err as { code?: string }).code, ms: Date.now() - led.lastPass, races: led.races, pauseMs: Math.round(pause) });
        led.dirty = true;
        led.retryAt = Date.now() + pause;
        return;
      }
      if ((err as { code?: string }).code === "NotLeader") { this.forget(envId); return; }
      // Anything else is this environment's alone: recorded on it, backed off, never rethrown
      // (which would make it due first again and starve the environments after it).
      await this.failed(envId, led, err);
    } finally {
      clearInterval(renew);
    }
  }

  private async failed(envId: string, led: Led, err: unknown): Promise<void> {
    led.failures++;
    led.failingSince ??= new Date().toISOString();
    const wait = failedPassBackoffMs(led.failures);
    led.retryAt = Date.now() + wait;
    // Signals that arrive meanwhile are kept: the pass after the back-off runs in any case.
    led.dirty = true;
    led.quiet = undefined;
    const code = isDroverError(err) ? err.code : "Internal";
    const message = err instanceof Error ? err.message : String(err);
    this.o.log("reconcile pass failed: environment backs off", { envId, code, error: message, failures: led.failures, retryInMs: wait });
    try {
      await this.o.store.setReconcileError(envId, {
        code, message, since: led.failingSince, failures: led.failures, retryAt: new Date(led.retryAt).toISOString(),
      });
    } catch (recordErr) {
      this.o.log("could not record the failed pass on the environment", { envId, error: (recordErr as Error).message });
    }
  }

  private async recovered(envId: string, led: Led): Promise<void> {
    this.o.log("reconcile passes work again", { envId, failures: led.failures });
    led.failures = 0;
    led.failingSince = undefined;
    led.retryAt = undefined;
    await this.o.store.setReconcileError(envId, undefined).catch((err) =>
      this.o.log("could not clear the environment's reconcile error", { envId, error: (err as Error).message }));
  }

  /** Blocks until an API write or agent report arrives on a watched stream, or the tick passes. */
  private async waitForSignal(): Promise<void> {
    const now = Date.now();
    if ([...this.led.values()].some((l) => (l.dirty || l.reported.size > 0) && runnable(l, now))) return;
    // Never block past the moment a plan asked to be woken at (a drain ends, a batch is due).
    // Nor past the end of a failure back-off.
    const wakes = [...this.led.values()].flatMap((l) => [l.wakeAt, l.retryAt].filter((t): t is number => t !== undefined));
    await this.readSignals(Math.max(1, Math.min(this.o.tickMs, ...wakes.map((t) => t - Date.now()))));
  }

  /**
   * Reads the watched streams (`environments`: each environment's reconcile stream alone, not
   * its hosts' report streams), waiting up to `blockMs` for an entry, and marks what they say:
   * an environment dirty, or a host's report to check. The only reader of the streams: the
   * loop calls it between passes and while their documents are written, never twice at once.
   */
  private async readSignals(blockMs: number, which: "all" | "environments" = "all"): Promise<void> {
    const watched = this.watchedStreams();
    const { owner } = watched;
    const streams = which === "all" ? watched.streams : watched.streams.filter((s) => owner.get(s)?.hostId === undefined);
    if (streams.length === 0) {
      await new Promise((r) => setTimeout(r, blockMs));
      return;
    }
    // A stream seen for the first time is read from its current end, found without blocking,
    // so an entry that lands between two XREADs is never missed.
    // All at once: one after another, the 1,250 report streams of an environment whose hosts had
    // just registered held the loop for seconds (bench scale: 12 s before the first pass).
    const unseen = streams.filter((s) => !this.streamIds.has(s));
    const lasts = await Promise.all(unseen.map((s) => this.o.redis.xrevrange(s, "+", "-", "COUNT", 1)));
    unseen.forEach((s, i) => this.streamIds.set(s, lasts[i][0]?.[0] ?? "0-0"));
    const ids = streams.map((s) => this.streamIds.get(s)!);
    // One XREAD on one Redis; per slot group on Redis Cluster (stream-read.ts).
    const res = await readStreams(this.o.blockingRedis, streams, ids, blockMs);
    for (const [stream, entries] of res ?? []) {
      if (entries.length) this.streamIds.set(stream, entries[entries.length - 1][0]);
      // An agent's per-container start/die entries are followed by its observed report, which
      // is what a pass reads: waking for each would be a no-op pass per container.
      if (entries.every(([, fields]) => streamField(fields, "type") === "instance")) continue;
      const whose = owner.get(stream);
      const led = whose ? this.led.get(whose.envId) : undefined;
      if (!led) continue;
      // Observed reports are checked against what the last pass read (checkReports); anything
      // else (an API write, a teardown-done) makes the environment dirty at once.
      const hostId = whose!.hostId;
      const observedOnly = entries.every(([, fields]) => ["instance", "observed"].includes(streamField(fields, "type") ?? ""));
      const observedCount = entries.filter(([, fields]) => streamField(fields, "type") === "observed").length;
      if (hostId && observedOnly) led.reported.set(hostId, (led.reported.get(hostId) ?? 0) + observedCount);
      else { led.dirty = true; led.quiet = undefined; }
    }
  }

  /** Every led environment's reconcile stream and its hosts' report streams, with their owners (one Map lookup per entry read). */
  private watchedStreams(): NonNullable<ReconcileManager["watched"]> {
    if (this.watched) return this.watched;
    const streams: string[] = [];
    const owner = new Map<string, { envId: string; hostId?: string }>();
    for (const [envId, led] of this.led) {
      const reconcile = this.o.keys.env(envId).reconcile;
      streams.push(reconcile);
      owner.set(reconcile, { envId });
      for (const hostId of led.hostIds) {
        const reports = this.o.keys.host(envId, hostId).reports;
        streams.push(reports);
        owner.set(reports, { envId, hostId });
      }
    }
    this.watched = { streams, owner };
    return this.watched;
  }
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
