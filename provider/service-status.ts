/**
 * What a Service's server records say about it, judged from the containers up (pure: the
 * API bodies of the service and its instances in, a verdict out). A service has converged
 * when the containers of its current spec version run, are healthy where it has a health
 * check, are as many as it asks for, and no rollout is in flight; it has failed, with no
 * point in waiting, when the server says it is stuck (`transitioning: "error"`), when the
 * upgrade this update started was rolled back, or when a new container cannot start or
 * crash-loops.
 */

/** What the waiting side knows about the change it made. */
export interface Expectation {
  /** The spec version the create or update produced (the POST/PUT answer's). */
  specVersion?: number;
  /**
   * The change made new containers (a create, or an update that started a rollout): their
   * restarts mean a crash loop. Off for changes that keep the containers (scale, links), whose
   * restart counts may come from long before.
   */
  newContainers?: boolean;
}

export interface Verdict {
  done: boolean;
  /** Set when waiting cannot help: the sentence to fail with. */
  failure?: string;
  /** What is still missing, for a timeout message. */
  pending: string;
}

/** Restarts of a new container that make it a crash loop rather than a slow start. */
export const CRASH_LOOP_RESTARTS = 3;

const isLive = (i: any) => i.state !== "removed" && i.state !== "removing" && !i.stopping;

/** The service's instances that are its own containers (not load balancer HAProxies) and are staying. */
export function liveInstances(instances: any[]): any[] {
  return instances.filter((i) => i.kind !== "lb" && isLive(i));
}

function rollingOut(svc: any): boolean {
  const u = svc.upgrade?.state;
  return u === "upgrading" || u === "rolling-back";
}

function versionLine(svc: any): string {
  const counts = svc.upgrade?.instancesByVersion;
  const by = counts && Object.keys(counts).length ? ` (instances per version: ${Object.entries(counts).map(([v, n]) => `v${v}: ${n}`).join(", ")})` : "";
  return `${svc.upgrade.state === "rolling-back" ? "rolling back" : "upgrading"} to version ${svc.upgrade.toVersion}${by}`;
}

/** Why one instance of the current version is not serving yet, or why it never will. */
function instanceProblem(svc: any, i: any, expect: Expectation): { failure?: string; pending?: string } {
  const s = i.status;
  if (s?.state === "error") return { failure: `instance ${i.name} could not start: ${s.error ?? "error"}` };
  if (expect.newContainers && s && s.restartCount >= CRASH_LOOP_RESTARTS) {
    return { failure: `instance ${i.name} is crash-looping: restarted ${s.restartCount} times${s.exitCode !== undefined ? `, last exit code ${s.exitCode}` : ""}` };
  }
  if (expect.newContainers && s?.state === "exited" && svc.spec?.restartPolicy?.name === "no") {
    return { failure: `instance ${i.name} exited${s.exitCode !== undefined ? ` with code ${s.exitCode}` : ""} and its restart policy is "no"` };
  }
  if (s?.state !== "running") return { pending: `${i.name} is ${s?.state ?? i.state}` };
  if (expect.newContainers && s.restartCount > 0) return { pending: `${i.name} restarted ${s.restartCount} time${s.restartCount === 1 ? "" : "s"}` };
  const check = svc.spec?.healthCheck;
  if (!check || i.healthState === "healthy") return {};
  if (i.healthState === "unhealthy" && check.strategy === "none") {
    return { failure: `instance ${i.name} is unhealthy (${i.healthReason ?? "check failing"}) and the health check's strategy "none" does not replace it` };
  }
  return { pending: `${i.name} is ${i.healthState ?? "not checked yet"}${i.healthReason ? ` (${i.healthReason})` : ""}` };
}

/**
 * The verdict on a service and its instances. `hasActiveHost` matters only when the server
 * says the service is stuck: with no active host at all, the hosts may still be registering
 * (a program that creates both), so that is waited for, not failed.
 */
export function judgeService(svc: any, instances: any[], expect: Expectation = {}, hasActiveHost = true): Verdict {
  const name = `service ${svc.name}`;
  if (svc.state === "removing" || svc.state === "removed") return { done: false, failure: `${name} is ${svc.state}`, pending: "" };
  if (expect.specVersion !== undefined && svc.specVersion !== expect.specVersion) {
    const u = svc.upgrade;
    if (u?.state === "rolled-back") {
      return { done: false, failure: `${name}: the upgrade to version ${expect.specVersion} was rolled back: ${u.reason ?? "no reason given"}; the service runs version ${svc.specVersion} again`, pending: "" };
    }
    if (u?.state === "rolling-back") {
      if (svc.transitioning === "error") {
        return { done: false, failure: `${name}: the upgrade to version ${expect.specVersion} failed (${u.reason ?? "no reason given"}), and so did the rollback: ${svc.transitioningMessage ?? "no message"}`, pending: "" };
      }
      return { done: false, pending: `${name} is rolling back to version ${svc.specVersion}: ${u.reason ?? "no reason given"}` };
    }
    return { done: false, failure: `${name} moved to version ${svc.specVersion} while version ${expect.specVersion} was rolling out: another change superseded this one`, pending: "" };
  }
  const why = svc.transitioningMessage ? `: ${svc.transitioningMessage}` : "";
  if (svc.transitioning === "error") {
    if (hasActiveHost) return { done: false, failure: `${name} is stuck${why || " (transitioning error, no message)"}`, pending: "" };
    return { done: false, pending: `${name} waits for an active host${why}` };
  }
  if (svc.state === "inactive") return { done: false, pending: `${name} is inactive (deactivated)` };

  const live = liveInstances(instances);
  const current = live.filter((i) => i.specVersion === svc.specVersion);
  const upgrading = rollingOut(svc);
  const problems = current.map((i) => instanceProblem(svc, i, expect));
  // During a rollout a failing instance is the server's to judge: it rolls the service back,
  // and the wait ends on `rolled-back` with the reason, once the old version runs again.
  const failure = upgrading ? undefined : problems.find((p) => p.failure)?.failure;
  if (failure) return { done: false, failure: `${name}: ${failure}`, pending: "" };
  const notReady = problems.filter((p) => p.pending || p.failure).map((p) => p.pending ?? p.failure!);
  const wanted: number | undefined = svc.spec?.global ? undefined : svc.spec?.scale;
  const older = live.length - current.length;
  const countOk = wanted === undefined ? older === 0 : current.length === wanted && older === 0;
  if (countOk && notReady.length === 0 && !upgrading && svc.transitioning === "no") return { done: true, pending: "" };

  const want = wanted === undefined ? "one per eligible host" : String(wanted);
  const parts = [
    `${current.length - notReady.length} of ${want} instances ${svc.spec?.healthCheck ? "running and healthy" : "running"} on version ${svc.specVersion}`,
    ...(older > 0 ? [`${older} of older versions still running`] : []),
    ...(notReady.length ? [notReady.slice(0, 5).join(", ") + (notReady.length > 5 ? `, and ${notReady.length - 5} more` : "")] : []),
    ...(upgrading ? [versionLine(svc)] : []),
    `transitioning=${svc.transitioning}${why}`,
  ];
  return { done: false, pending: `${name}: ${parts.join("; ")}` };
}

/**
 * The Service's `state` output: `active` when it runs as asked (the converged verdict),
 * `error: <the server's message>` when the server says it is stuck, `upgrading` or
 * `rolling-back` during a rollout, `inactive` when deactivated, `degraded` otherwise (fewer
 * instances running or healthy than asked), or the record's own state while removed.
 */
export function serviceStateOf(svc: any, instances: any[]): string {
  if (svc.state === "removing" || svc.state === "removed") return svc.state;
  if (svc.transitioning === "error") return `error: ${svc.transitioningMessage ?? "no message"}`;
  if (svc.state === "inactive") return "inactive";
  if (rollingOut(svc)) return svc.upgrade.state;
  return judgeService(svc, instances).done ? "active" : "degraded";
}

/** One instance as the Service's `instances` output shows it. */
export interface ServiceInstanceOutput {
  name: string;
  /** The host's name (its id when the host is gone). */
  host: string;
  /** The overlay address. */
  ip?: string;
  /** The container's state as its agent reports it (`running`, `exited`, ...), else the record's (`requested`, ...). */
  state: string;
  /** `healthy`, `unhealthy`, `initializing`, `reinitializing`; absent without a health check. */
  health?: string;
}

export function instancesOutput(instances: any[], hostNames: Record<string, string>): ServiceInstanceOutput[] {
  return liveInstances(instances)
    .map((i) => ({
      name: String(i.name), host: hostNames[i.hostId] ?? String(i.hostId), ...(i.ip ? { ip: String(i.ip) } : {}),
      state: String(i.status?.state ?? i.state), ...(i.healthState ? { health: String(i.healthState) } : {}),
    }))
    .sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
}

/** Host name → how many of the service's instances it runs (or, from a dry run, would run). */
export function placementByHost(hostNamesOfInstances: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of [...hostNamesOfInstances].sort()) out[h] = (out[h] ?? 0) + 1;
  return out;
}
