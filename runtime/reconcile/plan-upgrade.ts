/**
 * Rolling upgrades, one step per pass (pure). The agent knows nothing of upgrades: it runs
 * the instances it is given. This decides, from what the agents observed, which old
 * instances to stop (drain first), how many new ones to start beyond the target (startFirst),
 * when a batch is done, and when a batch failed and the service must roll back.
 *
 * The service record carries the state (UpgradeStatus): `upgrading` towards
 * `toVersion`, with `fromSpec` the last spec that ran in full. A batch starts only once every
 * instance of the new spec is ready (running, and healthy where there is a check) and the
 * strategy's interval has passed since the last batch was ready. A batch fails when one of
 * its instances turns unhealthy, exits or errors, or is not ready by the batch deadline; the
 * service then rolls back to `fromSpec` by itself (`rolling-back`, the same machine towards
 * the old spec). A rollback that fails too stops and says so (`transitioning: error`); a new
 * spec supersedes either at any time.
 */
import type { InstanceRecord, ServiceRecord, UpgradeStatus, UpgradeStrategySpec } from "../protocol/model";
import { UPGRADE_STRATEGY_DEFAULTS } from "../protocol/validate/health-check";

/** Time a batch gets to become ready, on top of what its health check needs. */
export const BATCH_GRACE_MS = 120_000;

export interface UpgradeInput {
  service: ServiceRecord;
  /** Live instances (not stopping) built from service.specVersion. */
  current: InstanceRecord[];
  /** Live instances of any other version. */
  old: InstanceRecord[];
  /** Instances count wanted; undefined for a global service. */
  target?: number;
  /** Running, and healthy where there is a check. */
  ready: (i: InstanceRecord) => boolean;
  now: number;
  /** Why no host could take an instance of the new spec at all (the scheduler's reasons), if so. */
  unplaceable?: string;
}

export interface UpgradeStep {
  /** The service record as it should be after this step (same object when unchanged). */
  service: ServiceRecord;
  /** Old instances to stop, gracefully (they are drained first). */
  stop: InstanceRecord[];
  /** Instances of a failed batch, removed at once (they never served). */
  dropNow: { instance: InstanceRecord; reason: string }[];
  /** New instances to start on top of the target now (a startFirst batch). */
  extra: number;
  /** A new batch starts in this step: the orchestrator records its instances. */
  startsBatch: boolean;
  /** The service rolled back in this step: current and old must be worked out again. */
  rolledBack: boolean;
  /** Why the upgrade cannot go on (a failed rollback). */
  error?: string;
  wakeAt?: number;
}

export function strategyOf(service: ServiceRecord): UpgradeStrategySpec {
  return service.spec.upgradeStrategy ?? UPGRADE_STRATEGY_DEFAULTS;
}

/** Whether the service is in the middle of a rollout. */
export function isRollingOut(service: ServiceRecord): boolean {
  return service.upgrade?.state === "upgrading" || service.upgrade?.state === "rolling-back";
}

/** Why an instance of a batch has failed, or undefined. */
export function batchFailure(i: InstanceRecord): string | undefined {
  if (i.healthState === "unhealthy") return `instance ${i.name} is unhealthy: ${i.healthReason ?? "check failed"}`;
  const s = i.status;
  if (!s) return undefined;
  if (s.state === "error") return `instance ${i.name} could not start: ${s.error ?? "error"}`;
  if (s.state === "exited") return `instance ${i.name} exited${s.exitCode !== undefined ? ` with code ${s.exitCode}` : ""}`;
  if (s.restartCount > 0) return `instance ${i.name} restarted ${s.restartCount} time${s.restartCount === 1 ? "" : "s"} (crashing)`;
  return undefined;
}

/** The deadline of a batch started at `now`. */
export function batchDeadline(service: ServiceRecord, now: number): number {
  const check = service.spec.healthCheck;
  return now + BATCH_GRACE_MS + (check ? check.initializingTimeout + check.interval * check.healthyThreshold : 0);
}

export function planUpgradeStep(input: UpgradeInput): UpgradeStep {
  const { service, current, old, now } = input;
  const step: UpgradeStep = { service, stop: [], dropNow: [], extra: 0, startsBatch: false, rolledBack: false };
  const upgrade = service.upgrade;
  if (!upgrade || !isRollingOut(service)) return step;
  if (upgrade.toVersion !== service.specVersion) return step; // a stale record; the API keeps them in step

  const pending = current.filter((i) => !input.ready(i));
  // Within a batch, places not filled yet (a replacement waits for a drained instance's port,
  // say) count as pending too; outside one they are the scale's business, not the upgrade's.
  const missing = input.target === undefined || !upgrade.batch ? 0 : Math.max(0, input.target - current.length - old.length);
  const waiting = pending.length + missing;
  const failure = (input.unplaceable ? `the new spec cannot be placed: ${input.unplaceable}` : undefined) ??
    pending.map(batchFailure).find((f) => f !== undefined) ??
    (upgrade.batch && waiting > 0 && now >= Date.parse(upgrade.batch.deadline)
      ? `${waiting} instance${waiting === 1 ? "" : "s"} not ready within the batch deadline${pending.length ? ` (${pending.map((i) => i.name).join(", ")})` : ""}`
      : undefined);
  if (failure) return fail(step, upgrade, failure, pending, now);

  if (waiting > 0) {
    if (upgrade.batch) step.wakeAt = Date.parse(upgrade.batch.deadline);
    return step;
  }

  // Every instance of the new spec is ready.
  let next: UpgradeStatus = upgrade;
  if (upgrade.batch) {
    const { batch: _done, ...rest } = upgrade;
    next = { ...rest, nextBatchAt: new Date(now + strategyOf(service).intervalMillis).toISOString() };
  }
  const target = input.target;
  // More instances than wanted (the second half of a startFirst batch, or a scale-down): old ones go first.
  const excess = target === undefined ? 0 : Math.max(0, current.length + old.length - target);
  const byIndexDesc = [...old].sort((a, b) => b.index - a.index);
  step.stop.push(...byIndexDesc.slice(0, excess));
  const oldLeft = byIndexDesc.slice(excess);

  if (oldLeft.length === 0) {
    if (target === undefined || current.length >= target) {
      const { batch: _b, nextBatchAt: _n, ...rest } = next;
      next = { ...rest, state: next.state === "rolling-back" ? "rolled-back" : "upgraded", finishedAt: new Date(now).toISOString() };
    }
    return withUpgrade(step, next);
  }

  const notBefore = next.nextBatchAt ? Date.parse(next.nextBatchAt) : 0;
  if (now < notBefore) {
    step.wakeAt = notBefore;
    return withUpgrade(step, next);
  }
  // Start the next batch.
  const strategy = strategyOf(service);
  const k = Math.min(strategy.batchSize, oldLeft.length);
  if (strategy.startFirst && target !== undefined) {
    step.extra = k;
  } else {
    step.stop.push(...oldLeft.slice(0, k));
  }
  step.startsBatch = true;
  const { nextBatchAt: _n, ...rest } = next;
  next = { ...rest, batch: { instanceIds: [], startedAt: new Date(now).toISOString(), deadline: new Date(batchDeadline(service, now)).toISOString() } };
  return withUpgrade(step, next);
}

/** A failed batch: roll back to the last spec that ran in full, or stop if this was the rollback. */
function fail(step: UpgradeStep, upgrade: UpgradeStatus, reason: string, pending: InstanceRecord[], now: number): UpgradeStep {
  const service = step.service;
  if (upgrade.state === "rolling-back") {
    step.error = `rollback to version ${upgrade.toVersion} failed: ${reason}`;
    return step;
  }
  // Instances of the failed batch never served: they go at once, and the old spec fills their places.
  for (const i of pending) step.dropNow.push({ instance: i, reason: `upgrade failed: ${reason}` });
  const rolling: UpgradeStatus = {
    state: "rolling-back",
    fromSpec: upgrade.fromSpec,
    fromVersion: upgrade.fromVersion,
    toVersion: upgrade.fromVersion,
    startedAt: new Date(now).toISOString(),
    reason: `upgrade to version ${upgrade.toVersion} failed: ${reason}`,
  };
  step.service = {
    ...service,
    spec: upgrade.fromSpec,
    specVersion: upgrade.fromVersion,
    maxSpecVersion: Math.max(service.maxSpecVersion ?? service.specVersion, service.specVersion),
    upgrade: rolling,
  };
  step.rolledBack = true;
  return step;
}

function withUpgrade(step: UpgradeStep, upgrade: UpgradeStatus): UpgradeStep {
  if (upgrade !== step.service.upgrade) step.service = { ...step.service, upgrade };
  return step;
}

/**
 * The upgrade a spec change starts: from the last spec that ran in full (the running
 * upgrade's `fromSpec` while one is in flight, else the spec being replaced).
 */
export function startUpgrade(current: ServiceRecord, toVersion: number, now: string): UpgradeStatus {
  const inFlight = isRollingOut(current) && current.upgrade;
  return {
    state: "upgrading",
    fromSpec: inFlight ? inFlight.fromSpec : current.spec,
    fromVersion: inFlight ? inFlight.fromVersion : current.specVersion,
    toVersion,
    startedAt: now,
  };
}
