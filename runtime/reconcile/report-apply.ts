import type { InstanceRecord } from "../protocol/model";
import type { Store } from "../store/store";
import { isDroverError } from "../protocol/errors";
import { observedFingerprint, observedRestFingerprint } from "./observed-fingerprint";
import { planReportDelta } from "./report-delta";

/** What the reconciler remembers of the last pass's reading, per host (PassResult fills it). */
export interface ReportsSeen {
  /** Host id → observedFingerprint of the document last read or applied. */
  observed: Record<string, string>;
  /** Host id → observedRestFingerprint of the same document. */
  observedRest: Record<string, string>;
  /** Host id → ids of the instances placed on it as the last pass read them. */
  hostInstances: Record<string, string[]>;
}

export interface ReportsOutcome {
  /** Hosts whose document repeated the one last read (nothing to do). */
  repeated: number;
  /** Instance records the reports updated without a pass. */
  updated: number;
  /** Set when only a full pass can settle the reports: why. Nothing was written then. */
  pass?: string;
  /** The environment's revision after the write, when records were written. */
  rev?: number;
}

/**
 * The incremental reconcile of agents' observed reports: GET each reporting host's document;
 * one that repeats the last is done; for the others the records of the instances they name
 * (and held at the last pass) are read with one HMGET, report-delta.ts decides (pure), and the
 * updates go in one small fenced write checked against each record's revision. Nothing is
 * written when any report needs a pass: the pass then reads and settles all of them.
 * `seen` is updated for the documents settled here, so repeating them costs a GET again.
 */
export async function applyReports(envId: string, hostIds: string[], seen: ReportsSeen, fence: number, store: Store): Promise<ReportsOutcome> {
  const docs = await Promise.all(hostIds.map((h) => store.getObserved(envId, h)));
  const changed = hostIds.map((hostId, k) => ({ hostId, doc: docs[k], fingerprint: observedFingerprint(docs[k]) }))
    .filter((c) => c.fingerprint !== seen.observed[c.hostId]);
  const repeated = hostIds.length - changed.length;
  if (changed.length === 0) return { repeated, updated: 0 };

  const idsOf = (c: (typeof changed)[number]) => [...new Set([...Object.keys(c.doc?.instances ?? {}), ...(seen.hostInstances[c.hostId] ?? [])])];
  const ids = [...new Set(changed.flatMap(idsOf))];
  const [hosts, records] = await Promise.all([
    store.getMany(envId, "host", changed.map((c) => c.hostId)),
    store.getMany(envId, "instance", ids),
  ]);
  const byId = new Map(ids.map((id, k) => [id, records[k]]));
  const serviceIds = [...new Set(records.filter((r): r is InstanceRecord => !!r).map((r) => r.serviceId))];
  const services = await store.getMany(envId, "service", serviceIds);
  const serviceById = new Map(serviceIds.map((id, k) => [id, services[k]]));

  const updates: InstanceRecord[] = [];
  for (const [k, c] of changed.entries()) {
    const delta = planReportDelta({
      hostId: c.hostId, host: hosts[k], observed: c.doc,
      restUnchanged: observedRestFingerprint(c.doc) === seen.observedRest[c.hostId],
      instances: idsOf(c).map((id) => byId.get(id)), services: serviceById,
    });
    if ("pass" in delta) return { repeated, updated: 0, pass: delta.pass };
    updates.push(...delta.updates);
  }
  let rev: number | undefined;
  if (updates.length) {
    try {
      rev = await store.observeInstances(envId, updates, { fence });
    } catch (err) {
      if (isDroverError(err) && err.code === "RevisionMismatch") return { repeated, updated: 0, pass: err.message };
      throw err;
    }
  }
  for (const c of changed) seen.observed[c.hostId] = c.fingerprint;
  return { repeated, updated: updates.length, ...(rev !== undefined ? { rev } : {}) };
}
