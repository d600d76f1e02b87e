import { streamField } from "../store/stream-fields";
import type Redis from "ioredis";
import { DroverError } from "../protocol/errors";
import type { HostDesiredState, HostObservedState } from "../protocol/model";
import type { Keys } from "../protocol/keys";
import type { Store, WriteBatch } from "../store/store";
import { checkSnapshot } from "./check-snapshot";
import { observedFingerprint, observedRestFingerprint } from "./observed-fingerprint";
import { newIpsecSpec } from "./ipsec-key";
import { planWithDockerDisk } from "./disk-aware-plan";
import { isEmptyPlan } from "./plan";
import { quietStateOf, type QuietState } from "./quiet";
import type { Plan } from "./plan-types";
import type { PassCache } from "./pass-cache";
import { PassTimer, type PassTimings } from "./pass-timer";
import { forEachLimit } from "./for-each-limit";
import { applyOwnWrite, readSnapshot } from "./snapshot-cache";
import { newStepsWritten, writeInSteps } from "./chunked-write";
import { instanceIdSource } from "./instance-ids";
import type { HeartbeatBudget } from "../protocol/heartbeat-cadence";

/** Desired documents written at once: enough to hide Redis round trips, few enough to keep memory flat. */
const DESIRED_WRITES_IN_FLIGHT = 32;

export interface EnvReconcilerDeps {
  store: Store;
  /** A non-blocking connection for the few reads and nudges that are not in Store. */
  redis: Redis;
  keys: Keys;
  graceMs: number;
  /** The hosts' heartbeat cadence and its stretching (protocol/heartbeat-cadence.ts); absent: never stretched. */
  heartbeat?: HeartbeatBudget;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  now?: () => number;
  /**
   * Called once the pass's records are written (or it found nothing to write), before the DNS
   * and desired documents: the manager starts its next environment's pass from here (manager.ts).
   */
  onRecordsWritten?: () => void;
  /** Instance puts per write step (chunked-write.ts); absent: INSTANCE_PUTS_PER_WRITE. */
  instancePutsPerWrite?: number;
}

export interface PassResult {
  /** The hosts seen, so the caller can watch their report streams. */
  hostIds: string[];
  /** Host id → observedFingerprint of the document this pass read (reports that repeat it need no pass). */
  observed: Record<string, string>;
  /** Host id → observedRestFingerprint of the same documents (report-apply.ts). */
  observedRest: Record<string, string>;
  /** Host id → ids of the instances placed on it, as this pass read them (report-apply.ts). */
  hostInstances: Record<string, string[]>;
  /**
   * When the pass found nothing to do: what it saw, so the next periodic pass can be skipped
   * while the revision and every host's heartbeat presence stay the same (see quiet.ts).
   */
  quiet?: QuietState;
  changed: boolean;
  purged: boolean;
  plan?: Plan;
  /** Milliseconds of each step (read, plan, write, dns, desired), for the log and benchmarks. */
  timings: PassTimings;
  /** Whether the pass read every record (false: the leader's cache, brought up to date from events if need be). */
  fullRead: boolean;
}

/**
 * One environment's level-triggered pass: read everything, plan (pure), write the records
 * fenced and checked against the revision read (in steps when there are many: chunked-write.ts),
 * then the DNS and desired documents.
 * A stale leader's writes fail with NotLeader; a concurrent API write with RevisionMismatch,
 * and the next pass starts over from fresh state.
 */
export async function reconcileEnvironment(envId: string, fence: number, deps: EnvReconcilerDeps, cache?: PassCache): Promise<PassResult> {
  const { store } = deps;
  const now = (deps.now ?? Date.now)();
  const timer = new PassTimer();
  // Before the snapshot: making the first key bumps the revision the batch is checked against.
  const ipsec = await environmentKey(deps, envId);
  const { snapshot, fresh } = await readSnapshot(store, deps.redis, deps.keys, envId, cache?.snapshot);
  // A record the planner cannot work with stops this environment's pass, with its name.
  // (Records kept from the last pass were checked when read, or written by the planner.)
  if (fresh) {
    try {
      checkSnapshot(snapshot);
    } catch (err) {
      if (cache) cache.snapshot.records = undefined;
      throw err;
    }
  }
  const hostIds = snapshot.hosts.map((h) => h.id);
  // Desired documents this leader already knows (pass-cache.ts) are not read again.
  const storedDesiredDigests = new Map<string, string>();
  if (cache) {
    const live = new Set(hostIds);
    for (const hostId of cache.desired.keys()) if (!live.has(hostId)) cache.desired.delete(hostId);
    for (const h of snapshot.hosts) {
      const known = cache.desired.get(h.id);
      if (known && known.hostRev === h.rev) storedDesiredDigests.set(h.id, known.digest);
    }
  }
  const [heartbeats, observedList, desiredList, teardownList] = await Promise.all([
    store.heartbeats(envId, hostIds),
    Promise.all(hostIds.map((h) => store.getObserved(envId, h))),
    Promise.all(hostIds.map((h) => (storedDesiredDigests.has(h) ? undefined : store.getDesired(envId, h)))),
    snapshot.env.state === "removing" || snapshot.hosts.some((h) => h.state === "removing") ? Promise.all(hostIds.map((h) => teardownReported(deps, envId, h))) : Promise.resolve(hostIds.map(() => false)),
  ]);
  const dns = cache?.dns ?? await store.getDns(envId);
  if (cache) cache.dns = dns;
  const byHost = <T>(list: T[]) => Object.fromEntries(hostIds.map((h, i) => [h, list[i]])) as Record<string, T>;
  const observed = byHost(observedList.map(observedFingerprint));
  const observedRest = byHost(observedList.map(observedRestFingerprint));
  const hostInstances: Record<string, string[]> = Object.fromEntries(hostIds.map((h) => [h, []]));
  for (const i of snapshot.instances) (hostInstances[i.hostId] ??= []).push(i.id);
  const seen = { observed, observedRest, hostInstances };
  timer.lap("read");

  // Free disk on the hosts' Docker data roots is read only when this pass places something (disk-aware-plan.ts).
  const { plan, dockerDisk } = await planWithDockerDisk({
    snapshot,
    heartbeats,
    observed: byHost<HostObservedState | undefined>(observedList),
    desired: byHost<HostDesiredState | undefined>(desiredList),
    storedDesiredDigests,
    teardownDone: byHost<boolean>(teardownList),
    ipsec,
    dns,
    now,
    seed: snapshot.rev,
    graceMs: deps.graceMs,
    ...(deps.heartbeat ? { heartbeat: deps.heartbeat } : {}),
    newId: instanceIdSource(),
  }, (ids) => store.dockerDisk(envId, ids));
  timer.lap("plan");
  // What this pass found stored and leaves alone is known from here on.
  const hostRev = new Map(snapshot.hosts.map((h) => [h.id, h.rev]));
  const remember = (hostId: string) => {
    const digest = plan.desiredDigests?.get(hostId);
    if (cache && digest !== undefined && hostRev.has(hostId)) cache.desired.set(hostId, { hostRev: hostRev.get(hostId)!, digest });
  };
  if (cache) {
    const writing = new Set(plan.desired.map((d) => d.hostId));
    for (const hostId of plan.desiredDigests?.keys() ?? []) if (!writing.has(hostId)) remember(hostId);
    // Until written (and acknowledged), what is stored for these hosts is not known.
    for (const hostId of writing) cache.desired.delete(hostId);
  }
  if (isEmptyPlan(plan)) {
    deps.onRecordsWritten?.();
    const quiet = quietStateOf(snapshot, heartbeats, dockerDisk);
    return { hostIds, ...seen, quiet, changed: false, purged: false, plan, timings: timer.done(), fullRead: fresh };
  }

  // A removed host's Redis user goes before its record and keys: the agent, done with its
  // teardown, keeps beating until its user is gone, and a beat landing between the two used to
  // leave a key behind the host. Deleting the user drops its connections; if the write below
  // then fails, the next pass plans the same removal (the user is already gone: a no-op).
  for (const hostId of plan.removedHosts) await store.removeHostUser(envId, hostId);
  if (plan.batch.put.length || plan.batch.remove.length) {
    // Until the write is known to have landed, the cached records are not what is stored.
    const records = cache?.snapshot.records;
    if (cache) cache.snapshot.records = undefined;
    const progress = newStepsWritten(snapshot.rev);
    let written: Awaited<ReturnType<typeof writeInSteps>>;
    try {
      written = await writeInSteps(store, envId, plan.batch, snapshot.rev, fence, deps.instancePutsPerWrite, progress);
    } catch (err) {
      // Refused part way (an API write between two steps): the steps that went through are
      // known, so the cache follows them and the next pass takes the rest from the events,
      // rather than reading and parsing every record again (at 25,000 instances: 2.4 s and the
      // server's peak memory, bench scale). A step that may have landed unanswered (a timeout)
      // is a revision the events then explain, or the next pass reads everything.
      if (cache && records && progress.own) {
        cache.snapshot.records = records;
        applyOwnWrite(cache.snapshot, snapshot.rev, mergedSteps(progress.batches), progress.rev, progress.batches.length);
      }
      throw err;
    }
    if (cache && records) {
      cache.snapshot.records = records;
      // Other writers' creations came between (WriteOptions.creationsSince: hosts registering,
      // services created): the records stay as read, and the next pass takes this write and
      // theirs from the events (or reads everything, when there are too many). Dropping them
      // made every pass while hosts registered by the thousand read the whole environment.
      if (written.own) applyOwnWrite(cache.snapshot, snapshot.rev, plan.batch, written.rev, written.steps);
    }
  }
  timer.lap("write");
  deps.onRecordsWritten?.();
  // DNS (and the load balancers reading the same directory) let go of an instance before its
  // agent is told to remove the container.
  if (plan.dns) {
    const listening = snapshot.hosts.filter((h) => h.state !== "removing" && h.state !== "removed" && !plan.removedHosts.includes(h.id));
    if (cache) cache.dns = undefined; // until written
    const version = await store.setDns(envId, plan.dns, listening.map((h) => h.id), { fence });
    if (cache) cache.dns = { version, directory: plan.dns };
  }
  timer.lap("dns");
  // Each host's document is its own script: several in flight hide the round trips (one after
  // another, 1,250 of them took seconds on a busy Redis while the server sat idle).
  await forEachLimit(plan.desired, DESIRED_WRITES_IN_FLIGHT, async (doc) => {
    await store.setDesired(envId, { generation: 0, ...doc }, { fence });
    remember(doc.hostId);
  });
  timer.lap("desired");
  for (const hostId of plan.teardownHosts) await nudgeTeardown(deps, envId, hostId);
  if (plan.purge) {
    for (const hostId of hostIds) await store.removeHostUser(envId, hostId);
    await store.purgeEnvironment(envId);
    deps.log("environment purged", { envId });
    return { hostIds, ...seen, changed: true, purged: true, plan, timings: timer.done(), fullRead: fresh };
  }
  const timings = timer.done();
  logPlan(deps, envId, plan, timings, fresh);
  return { hostIds, ...seen, changed: true, purged: false, plan, timings, fullRead: fresh };
}

/**
 * The cheap answer to observed reports from `hostIds`: true when one of their documents now
 * differs from what the last pass read (`seen`, from PassResult.observed), so a pass must run.
 * One GET per host; nothing written.
 */
export async function observedChanged(envId: string, hostIds: Iterable<string>, seen: Record<string, string>, store: Store): Promise<boolean> {
  const ids = [...hostIds];
  const docs = await Promise.all(ids.map((h) => store.getObserved(envId, h)));
  return ids.some((h, i) => seen[h] !== observedFingerprint(docs[i]));
}

/** The environment's pre-shared key, made on the first pass that finds none (environments made before keys existed). */
async function environmentKey(deps: EnvReconcilerDeps, envId: string) {
  const stored = await deps.store.getIpsec(envId);
  if (stored) return stored;
  try {
    await deps.store.setIpsec(envId, newIpsecSpec(), { onlyIfAbsent: true });
  } catch (err) {
    if (err instanceof DroverError && err.code === "NotFound") return undefined; // purged meanwhile: the snapshot says so
    throw err;
  }
  return deps.store.getIpsec(envId);
}

/** Teardown nudges repeat each pass until the host reports done or goes away; agents treat them idempotently. */
async function nudgeTeardown(deps: EnvReconcilerDeps, envId: string, hostId: string): Promise<void> {
  await deps.redis.xadd(deps.keys.host(envId, hostId).nudges, "MAXLEN", "~", "100", "*", "type", "teardown");
}

async function teardownReported(deps: EnvReconcilerDeps, envId: string, hostId: string): Promise<boolean> {
  const entries = await deps.redis.xrevrange(deps.keys.host(envId, hostId).reports, "+", "-", "COUNT", 20);
  return entries.some(([, fields]) => streamField(fields, "type") === "teardown-done");
}


function logPlan(deps: EnvReconcilerDeps, envId: string, plan: Plan, ms: PassTimings, fullRead: boolean): void {
  const puts = plan.batch.put.length;
  const removes = plan.batch.remove.length;
  deps.log("reconciled", { envId, puts, removes, desiredDocs: plan.desired.length, dns: plan.dns !== undefined, teardown: plan.teardownHosts.length, fullRead, ms, memoryMb: memoryMb() });
}

/** Errors after which the next pass simply starts again. */
export function isTransientPassError(err: unknown): boolean {
  return err instanceof DroverError && (err.code === "RevisionMismatch" || err.code === "Unavailable");
}

/**
 * The process's memory as a pass ends, in MB: a pass that grows the server shows in its own
 * line, and whether it is V8's heap (heapUsed of heapTotal) or outside it (external: Buffers,
 * Redis replies) that grew.
 */
function memoryMb(): { rss: number; heapTotal: number; heapUsed: number; external: number } {
  const m = process.memoryUsage();
  const mb = (bytes: number) => Math.round(bytes / 1048576);
  return { rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external) };
}

/** The steps that went through as one batch, for the cache (applyOwnWrite). */
function mergedSteps(steps: Array<Required<WriteBatch>>): Required<WriteBatch> {
  return { put: steps.flatMap((step) => step.put), remove: steps.flatMap((step) => step.remove) };
}
