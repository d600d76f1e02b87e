/** Building checkers and targets for the checker's tests (short intervals, real sockets). */
import { HealthChecker } from "../../../../agent/health/checker";
import { phaseOffset } from "../../../../agent/health/phase";
import { createLogger } from "../../../../agent/log";
import type { HealthCheckSpec, HealthCheckTarget, HealthVerdict } from "../../../../runtime/protocol/model";
import { waitFor } from "../../../support/wait";

export const STARTED = "2024-05-01T10:00:00.000Z";

/** Fast checks: every 100 ms, 100 ms to answer, two in a row either way. */
export function fastCheck(port: number, over: Partial<HealthCheckSpec> = {}): HealthCheckSpec {
  return {
    port, interval: 100, responseTimeout: 100, healthyThreshold: 2, unhealthyThreshold: 2,
    initializingTimeout: 60000, reinitializingTimeout: 60000, strategy: "none", ...over,
  };
}

export function target(instanceId: string, ip: string, check: HealthCheckSpec, startedAt = STARTED): HealthCheckTarget {
  return { instanceId, ip, startedAt, local: true, check };
}

/** An instance id whose first check comes within `maxMs` of being added (ids are hashed to an offset). */
export function earlyId(prefix: string, interval: number, maxMs: number): string {
  for (let i = 0; ; i++) if (phaseOffset(`${prefix}-${i}`, interval) < maxMs) return `${prefix}-${i}`;
}

export interface Watched {
  checker: HealthChecker;
  /** Every "change" event: the verdicts at that moment. */
  changes: Record<string, HealthVerdict>[];
  logs: Record<string, unknown>[];
  /** Waits until `id`'s verdict satisfies `pred`; returns it. */
  until(id: string, pred: (v: HealthVerdict) => boolean, what: string, timeoutMs?: number): Promise<HealthVerdict>;
}

export function watchedChecker(t: { teardown(fn: () => unknown): void }, now?: () => number): Watched {
  const logs: Record<string, unknown>[] = [];
  const checker = new HealthChecker({ log: createLogger((line) => logs.push(JSON.parse(line)), "debug"), now });
  const changes: Record<string, HealthVerdict>[] = [];
  checker.on("change", () => changes.push(checker.verdicts()));
  t.teardown(() => checker.stop());
  return {
    checker,
    changes,
    logs,
    until: (id, pred, what, timeoutMs = 5000) =>
      waitFor(() => {
        const v = checker.verdicts()[id];
        return v && pred(v) ? v : undefined;
      }, { what: `${id} ${what}`, timeoutMs }),
  };
}

/** The states `id` had at each "change", in order. */
export function statesOf(changes: Record<string, HealthVerdict>[], id: string): string[] {
  return changes.map((c) => c[id]?.state ?? "absent");
}
