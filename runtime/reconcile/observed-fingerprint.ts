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
