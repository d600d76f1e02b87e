/**
 * Which unhealthy instances a service replaces, per its health check's strategy (pure):
 * - `none`: report only;
 * - `recreate`: every unhealthy instance;
 * - `recreateOnQuorum`: every unhealthy instance, but only while at least `quorum` are
 *   healthy. When fewer are, the likely cause is shared (a database down, a network cut)
 *   and recreating would only add churn, so nothing is touched until enough recover —
 *   Rancher's rule. An instance is judged two check intervals after it turned unhealthy, so
 *   failures that arrive together (the checkers' phases spread them over an interval) are
 *   counted together instead of the first one being replaced while the others still look fine.
 * During a rollout the new spec's instances are the upgrade's business: a sick one fails
 * its batch and rolls the service back instead.
 */
import type { InstanceRecord, ServiceRecord } from "../protocol/model";

export function sickToReplace(service: ServiceRecord, live: InstanceRecord[], rollingOut: boolean, now: number): { replace: InstanceRecord[]; message?: string; wakeAt?: number } {
  const check = service.spec.healthCheck;
  if (!check) return { replace: [] };
  const unhealthy = live.filter((i) => i.healthState === "unhealthy" && !(rollingOut && i.specVersion === service.specVersion));
  if (unhealthy.length === 0) return { replace: [] };
  const names = unhealthy.map((i) => i.name).join(", ");
  if (check.strategy === "none") return { replace: [], message: `unhealthy: ${names} (strategy none: reported only)` };
  if (check.strategy === "recreateOnQuorum") {
    const settleAt = (i: InstanceRecord) => Date.parse(i.healthChangedAt ?? "") + 2 * check.interval;
    const settling = unhealthy.filter((i) => now < settleAt(i));
    if (settling.length > 0) return { replace: [], wakeAt: Math.min(...settling.map(settleAt)) };
    const healthy = live.filter((i) => i.healthState === "healthy").length;
    const quorum = check.quorum ?? 1;
    if (healthy < quorum) {
      return { replace: [], message: `unhealthy: ${names}; not recreated: ${healthy} healthy, quorum ${quorum}` };
    }
  }
  return { replace: unhealthy };
}
