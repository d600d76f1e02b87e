/**
 * Instance health from the checkers' verdicts (pure).
 *
 * Every running instance of a service with a health check is checked by two agents: the one
 * on its own host (over the host's bridge) and one on another live host (over the IPsec
 * mesh). Their verdicts combine so that a partitioned checker is told apart from a sick
 * container:
 * - healthy when at least one fresh verdict is `passing`: a container that answers someone
 *   is serving, and a checker that cannot reach it is the one with the problem;
 * - unhealthy only when every fresh verdict (at least one) is `failing`, or when no check
 *   passed within the (re)initializing timeout since the container started;
 * - otherwise (re)initializing.
 * A verdict is fresh when its checker's host is alive (heartbeat present) and it is about
 * the container's current start (`startedAt`). So a checker cut off from the rest of the
 * environment only ever reports `failing` for instances that their own host still sees
 * `passing`: no healthy container elsewhere is recreated because of it; and a dead agent's
 * verdicts stop counting, leaving the other checker's.
 */
import type {
  HealthCheckSpec, HealthCheckTarget, HealthVerdict, HostObservedState, HostRecord, InstanceHealthState, InstanceRecord,
  ServiceHealthState, ServiceRecord,
} from "../protocol/model";
import { groupBy } from "./group-by";

export interface HealthInput {
  hosts: HostRecord[];
  /** Instances with their observed status already applied. */
  instances: InstanceRecord[];
  services: Map<string, ServiceRecord>;
  observed: Record<string, HostObservedState | undefined>;
  heartbeats: Record<string, number | undefined>;
  now: number;
}

export interface HealthPlan {
  /** Instances whose health changed (the records to write). */
  changed: Map<string, InstanceRecord>;
  /** Per host id: the instances its agent checks. */
  targets: Map<string, HealthCheckTarget[]>;
  /** The earliest time a health state changes by time alone (an initializing timeout). */
  wakeAt?: number;
}

/** The check of an instance's service, if it has one and the instance is a container. */
export function checkOf(instance: InstanceRecord, services: Map<string, ServiceRecord>): HealthCheckSpec | undefined {
  if (instance.kind === "lb") return undefined;
  return services.get(instance.serviceId)?.spec.healthCheck;
}

export function planHealth(input: HealthInput): HealthPlan {
  const { now } = input;
  const alive = (hostId: string) => (input.heartbeats[hostId] ?? 0) > 0;
  const checkers = input.hosts
    .filter((h) => h.state === "active" && alive(h.id) && !!h.subnet)
    .map((h) => h.id)
    .sort();
  const plan: HealthPlan = { changed: new Map(), targets: new Map() };
  const wake = (t: number) => { if (t > now && (plan.wakeAt === undefined || t < plan.wakeAt)) plan.wakeAt = t; };
  const addTarget = (hostId: string, target: HealthCheckTarget) => {
    const list = plan.targets.get(hostId);
    if (list) list.push(target);
    else plan.targets.set(hostId, [target]);
  };

  for (const instance of input.instances) {
    const check = checkOf(instance, input.services);
    if (!check) {
      if (instance.healthState !== undefined) plan.changed.set(instance.id, withoutHealth(instance));
      continue;
    }
    const startedAt = instance.status?.state === "running" ? instance.status.startedAt : undefined;
    if (input.observed[instance.hostId]?.docker?.state === "down") continue; // its engine is away: no verdict is about the container
    if (!startedAt || !instance.ip || instance.stopping) {
      // Not running (or leaving): nothing to check; DNS and load balancers skip it anyway.
      if (instance.healthState === undefined) plan.changed.set(instance.id, withHealth(instance, "initializing", undefined, now));
      continue;
    }
    const remote = remoteChecker(instance, checkers);
    addTarget(instance.hostId, { instanceId: instance.id, ip: instance.ip, startedAt, local: true, check });
    if (remote) addTarget(remote, { instanceId: instance.id, ip: instance.ip, startedAt, local: false, check });

    const verdicts: HealthVerdict[] = [];
    const byChecker: NonNullable<InstanceRecord["healthCheckers"]> = {};
    for (const hostId of [instance.hostId, remote]) {
      if (!hostId || !alive(hostId)) continue;
      const v = input.observed[hostId]?.health?.[instance.id];
      if (v && v.startedAt === startedAt) {
        verdicts.push(v);
        byChecker[hostId] = { state: v.state, ...(v.reason && v.state !== "passing" ? { reason: v.reason } : {}) };
      }
    }
    const next = decide(instance, check, startedAt, verdicts, now);
    if (next.wakeAt !== undefined) wake(next.wakeAt);
    const checkersChanged = JSON.stringify(byChecker) !== JSON.stringify(instance.healthCheckers ?? {});
    if (next.state !== instance.healthState || (next.state !== "healthy" && next.reason !== instance.healthReason) || checkersChanged) {
      const record = withHealth(instance, next.state, next.reason, now);
      if (Object.keys(byChecker).length) record.healthCheckers = byChecker;
      else delete record.healthCheckers;
      plan.changed.set(instance.id, record);
    }
  }
  return plan;
}

/** One instance's health from its fresh verdicts. */
function decide(
  instance: InstanceRecord, check: HealthCheckSpec, startedAt: string, verdicts: HealthVerdict[], now: number,
): { state: InstanceHealthState; reason?: string; wakeAt?: number } {
  if (verdicts.some((v) => v.state === "passing")) return { state: "healthy" };
  const restarted = isRestart(instance, startedAt);
  // Failing checks count once the container has been healthy since this start; before that
  // it is still (re)initializing — a slow starter gets its whole (re)initializing timeout, as
  // in Rancher — and only the timeout makes it unhealthy.
  const startingUp = restarted || instance.healthState === undefined || instance.healthState === "initializing" || instance.healthState === "reinitializing";
  if (!startingUp && verdicts.length > 0 && verdicts.every((v) => v.state === "failing")) {
    return { state: "unhealthy", reason: verdicts.find((v) => v.reason)?.reason ?? "check failed" };
  }
  // Not decided by the checkers yet: (re)initializing, until the timeout says otherwise.
  if (instance.healthState === "healthy" && !restarted) {
    // Healthy until a checker says otherwise: a second checker that just took over (a host
    // joined, left or was deactivated) starts pending, and that is no news about the container.
    return { state: "healthy" };
  }
  const timeout = restarted ? check.reinitializingTimeout : check.initializingTimeout;
  const deadline = Date.parse(startedAt) + timeout;
  if (Number.isFinite(deadline) && now >= deadline) {
    const last = verdicts.find((v) => v.reason)?.reason;
    return { state: "unhealthy", reason: `no check passed within ${timeout} ms of the container's start${last ? ` (last: ${last})` : ""}` };
  }
  if (instance.healthState === "unhealthy" && !restarted) {
    // Unhealthy stays unhealthy until a checker passes again (↔ healthy), not back to initializing.
    return { state: "unhealthy", reason: instance.healthReason };
  }
  const state: InstanceHealthState = restarted ? "reinitializing" : "initializing";
  const reason = verdicts.find((v) => v.reason)?.reason;
  return { state, ...(reason ? { reason } : {}), wakeAt: deadline };
}

/**
 * The container started again after its health was last decided: Rancher's
 * `reinitializing` (a fresh instance that never got a verdict is `initializing`).
 */
function isRestart(instance: InstanceRecord, startedAt: string): boolean {
  if (instance.healthState === undefined || instance.healthState === "initializing") return false;
  if (instance.healthState === "reinitializing") return true;
  const decidedAt = instance.healthChangedAt ? Date.parse(instance.healthChangedAt) : NaN;
  return Number.isFinite(decidedAt) && Date.parse(startedAt) > decidedAt;
}

/**
 * The second checker of an instance: one live host other than its own, by rendezvous
 * hashing (the host with the highest hash of instance and host), so the work spreads and a
 * host joining or leaving moves only the instances it takes or had, not most of them.
 */
export function remoteChecker(instance: InstanceRecord, checkers: string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const h of checkers) {
    if (h === instance.hostId) continue;
    const weight = hashOf(`${instance.id}/${h}`);
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && h < best)) {
      best = h;
      bestWeight = weight;
    }
  }
  return best;
}

function hashOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

function withHealth(instance: InstanceRecord, state: InstanceHealthState, reason: string | undefined, now: number): InstanceRecord {
  const next: InstanceRecord = { ...instance, healthState: state };
  if (state !== instance.healthState) next.healthChangedAt = new Date(now).toISOString();
  if (reason === undefined || state === "healthy") delete next.healthReason;
  else next.healthReason = reason;
  // A healthy instance ends a run of replacements: the next one starts over.
  if (state === "healthy") {
    delete next.attempt;
    delete next.backoffUntil;
  }
  return next;
}

function withoutHealth(instance: InstanceRecord): InstanceRecord {
  const next = { ...instance };
  delete next.healthCheckers;
  delete next.healthState;
  delete next.healthReason;
  delete next.healthChangedAt;
  return next;
}

/** Whether an instance may take traffic: running, and healthy where its service has a check. */
export function isServing(instance: InstanceRecord, services: Map<string, ServiceRecord>): boolean {
  if (instance.status?.state !== "running" || instance.stopping) return false;
  return !checkOf(instance, services) || instance.healthState === "healthy";
}

/** Rancher's service health from its live instances; undefined without a health check. */
export function serviceHealth(service: ServiceRecord, instances: InstanceRecord[]): ServiceHealthState | undefined {
  if (!service.spec.healthCheck) return undefined;
  const live = instances.filter((i) => !i.stopping);
  if (live.length === 0) return "initializing";
  const counts = groupBy(live, (i) => i.healthState ?? "initializing");
  const healthy = counts.get("healthy")?.length ?? 0;
  const unhealthy = counts.get("unhealthy")?.length ?? 0;
  if (healthy === live.length) return "healthy";
  if (healthy === 0) return unhealthy > 0 ? "unhealthy" : "initializing";
  return "degraded";
}
