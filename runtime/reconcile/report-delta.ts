import type { HostObservedState, HostRecord, InstanceRecord, ServiceRecord } from "../protocol/model";
import { statusOf, withObservedStatus } from "./instance-state";
import { isRollingOut } from "./plan-upgrade";

/**
 * What one agent report changes, when the incremental path can settle it alone: the
 * instance records to update (container id, start time, restart count, exit code, error of
 * containers that were running and still are). Anything a full pass would decide more
 * about returns `pass` with the reason, and the caller runs one:
 *  - the host is not `active` (liveness is the pass's), or its engine is down;
 *  - the report's health verdicts, load balancers, docker or network part changed;
 *  - an instance starts or stops running (the DNS directory and load balancers follow that,
 *    a died container may need replacing), or is a load balancer's, or is health-checked,
 *    draining or being removed, or its service is transitioning (rollouts, scale changes:
 *    the pass decides when they are done), or an instance the host held is gone from the report.
 * Pure; applies the same withObservedStatus the pass does, so what it writes is what the
 * next pass would have written.
 */
export interface ReportDeltaInput {
  hostId: string;
  host: HostRecord | undefined;
  observed: HostObservedState | undefined;
  /** Whether the report's part besides container statuses is the one the last pass read. */
  restUnchanged: boolean;
  /** The records of every instance the report names or the host held at the last pass (undefined: none stored). */
  instances: (InstanceRecord | undefined)[];
  services: Map<string, ServiceRecord | undefined>;
}

export type ReportDelta = { updates: InstanceRecord[] } | { pass: string };

export function planReportDelta(input: ReportDeltaInput): ReportDelta {
  const { host, observed } = input;
  if (!observed) return { pass: "no observed document" };
  if (!host || host.state !== "active") return { pass: `host ${input.hostId} is ${host?.state ?? "unknown"}` };
  if (observed.docker?.state === "down") return { pass: "docker is down on the host" };
  if (!input.restUnchanged) return { pass: "health, load balancer, docker or network part changed" };
  const updates: InstanceRecord[] = [];
  const seen = new Set<string>();
  for (const record of input.instances) {
    // Named by the report but not stored (removed meanwhile), or placed on another host: a pass ignores it too.
    if (!record || record.hostId !== input.hostId || seen.has(record.id)) continue;
    seen.add(record.id);
    const status = statusOf(record, observed);
    const next = withObservedStatus(record, status);
    if (!next) continue;
    if (record.kind === "lb") return { pass: `load balancer instance ${record.id} changed` };
    if (record.status?.state !== "running" || status?.state !== "running") return { pass: `instance ${record.id} ${status?.state ?? "unreported"} (was ${record.status?.state ?? "unreported"})` };
    if (record.stopping || record.state !== "active") return { pass: `instance ${record.id} is ${record.stopping ? "draining" : record.state}` };
    if (record.healthState !== undefined) return { pass: `instance ${record.id} is health-checked` };
    const service = input.services.get(record.serviceId);
    if (!service) return { pass: `service ${record.serviceId} of instance ${record.id} not found` };
    if (service.transitioning !== "no" || isRollingOut(service)) return { pass: `service ${service.id} is transitioning` };
    if (service.spec.healthCheck) return { pass: `service ${service.id} is health-checked` };
    updates.push(next);
  }
  return { updates };
}
