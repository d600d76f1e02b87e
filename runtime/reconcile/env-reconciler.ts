import { randomBytes } from "crypto";
import { streamField } from "../store/stream-fields";
import type Redis from "ioredis";
import { DroverError } from "../protocol/errors";
import type { HostDesiredState, HostObservedState } from "../protocol/model";
import type { Keys } from "../protocol/keys";
import type { Store } from "../store/store";
import { checkSnapshot } from "./check-snapshot";
import { observedFingerprint, observedRestFingerprint } from "./observed-fingerprint";
import { newIpsecSpec } from "./ipsec-key";
import { planWithDockerDisk } from "./disk-aware-plan";
import { isEmptyPlan } from "./plan";
import { quietStateOf, type QuietState } from "./quiet";
import type { Plan } from "./plan-types";

export interface EnvReconcilerDeps {
  store: Store;
  /** A non-blocking connection for the few reads and nudges that are not in Store. */
  redis: Redis;
  keys: Keys;
  graceMs: number;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  now?: () => number;
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
}

/**
 * One environment's level-triggered pass: read everything, plan (pure), write the records
 * in one fenced batch checked against the revision read, then the desired documents.
 * A stale leader's writes fail with NotLeader; a concurrent API write with RevisionMismatch,
 * and the next pass starts over from fresh state.
 */
export async function reconcileEnvironment(envId: string, fence: number, deps: EnvReconcilerDeps): Promise<PassResult> {
  const { store } = deps;
  const now = (deps.now ?? Date.now)();
  // Before the snapshot: making the first key bumps the revision the batch is checked against.
  const ipsec = await environmentKey(deps, envId);
  const snapshot = await store.snapshot(envId);
  // A record the planner cannot work with stops this environment's pass, with its name.
  checkSnapshot(snapshot);
  const hostIds = snapshot.hosts.map((h) => h.id);
  const [heartbeats, observedList, desiredList, teardownList] = await Promise.all([
    store.heartbeats(envId, hostIds),
    Promise.all(hostIds.map((h) => store.getObserved(envId, h))),
    Promise.all(hostIds.map((h) => store.getDesired(envId, h))),
    snapshot.env.state === "removing" || snapshot.hosts.some((h) => h.state === "removing") ? Promise.all(hostIds.map((h) => teardownReported(deps, envId, h))) : Promise.resolve(hostIds.map(() => false)),
  ]);
  const dns = await store.getDns(envId);
  const byHost = <T>(list: T[]) => Object.fromEntries(hostIds.map((h, i) => [h, list[i]])) as Record<string, T>;
  const observed = byHost(observedList.map(observedFingerprint));
  const observedRest = byHost(observedList.map(observedRestFingerprint));
  const hostInstances: Record<string, string[]> = Object.fromEntries(hostIds.map((h) => [h, []]));
  for (const i of snapshot.instances) (hostInstances[i.hostId] ??= []).push(i.id);
  const seen = { observed, observedRest, hostInstances };

  // Free disk on the hosts' Docker data roots is read only when this pass places something (disk-aware-plan.ts).
  const { plan, dockerDisk } = await planWithDockerDisk({
    snapshot,
    heartbeats,
    observed: byHost<HostObservedState | undefined>(observedList),
    desired: byHost<HostDesiredState | undefined>(desiredList),
    teardownDone: byHost<boolean>(teardownList),
    ipsec,
    dns,
    now,
    seed: snapshot.rev,
    graceMs: deps.graceMs,
    newId: () => `i${randomBytes(6).toString("hex")}`,
  }, (ids) => store.dockerDisk(envId, ids));
  if (isEmptyPlan(plan)) {
    const quiet = quietStateOf(snapshot, heartbeats, dockerDisk);
    return { hostIds, ...seen, quiet, changed: false, purged: false, plan };
  }

  // A removed host's Redis user goes before its record and keys: the agent, done with its
  // teardown, keeps beating until its user is gone, and a beat landing between the two used to
  // leave a key behind the host. Deleting the user drops its connections; if the write below
  // then fails, the next pass plans the same removal (the user is already gone: a no-op).
  for (const hostId of plan.removedHosts) await store.removeHostUser(envId, hostId);
  if (plan.batch.put.length || plan.batch.remove.length) {
    await store.write(envId, plan.batch, { expectRev: snapshot.rev, fence });
  }
  // DNS (and the load balancers reading the same directory) let go of an instance before its
  // agent is told to remove the container.
  if (plan.dns) {
    const listening = snapshot.hosts.filter((h) => h.state !== "removing" && h.state !== "removed" && !plan.removedHosts.includes(h.id));
    await store.setDns(envId, plan.dns, listening.map((h) => h.id), { fence });
  }
  for (const doc of plan.desired) {
    await store.setDesired(envId, { generation: 0, ...doc }, { fence });
  }
  for (const hostId of plan.teardownHosts) await nudgeTeardown(deps, envId, hostId);
  if (plan.purge) {
    for (const hostId of hostIds) await store.removeHostUser(envId, hostId);
    await store.purgeEnvironment(envId);
    deps.log("environment purged", { envId });
    return { hostIds, ...seen, changed: true, purged: true, plan };
  }
  logPlan(deps, envId, plan);
  return { hostIds, ...seen, changed: true, purged: false, plan };
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


function logPlan(deps: EnvReconcilerDeps, envId: string, plan: Plan): void {
  const puts = plan.batch.put.length;
  const removes = plan.batch.remove.length;
  deps.log("reconciled", { envId, puts, removes, desiredDocs: plan.desired.length, dns: plan.dns !== undefined, teardown: plan.teardownHosts.length });
}

/** Errors after which the next pass simply starts again. */
export function isTransientPassError(err: unknown): boolean {
  return err instanceof DroverError && (err.code === "RevisionMismatch" || err.code === "Unavailable");
}
