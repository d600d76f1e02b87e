import { createHash } from "crypto";
import type { HostObservedState } from "../protocol/model";
import { canonical } from "./desired-docs";

/**
 * What a pass reads of a host's observed document, as a short digest: everything but when
 * it was written. Agents write the document after every reconcile of theirs (their periodic
 * resync included), so most reports repeat the last one; the reconcile manager compares
 * digests to answer such a report with one GET instead of a pass over the environment.
 * Pure. "" for a host with no document.
 */
export function observedFingerprint(observed: HostObservedState | undefined): string {
  if (!observed) return "";
  const { reportedAt: _written, ...rest } = observed;
  return createHash("sha256").update(canonical(rest)).digest("base64");
}

/**
 * The digest of what a pass reads of a host's observed document besides its containers'
 * statuses (health verdicts, load balancers, docker, network). A report whose rest matches
 * the last one read may be settled by the incremental path (report-delta.ts); one whose rest
 * changed needs a pass. Pure. "" for a host with no document.
 */
export function observedRestFingerprint(observed: HostObservedState | undefined): string {
  if (!observed) return "";
  const { reportedAt: _written, instances: _containers, appliedGeneration: _applied, ...rest } = observed;
  return createHash("sha256").update(canonical(rest)).digest("base64");
}
