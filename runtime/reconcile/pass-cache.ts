import type { EnvDnsDocument } from "../protocol/dns";
import type { SnapshotCache } from "./snapshot-cache";

/**
 * What a reconcile leader remembers of an environment between its passes, so a pass need
 * not read again what only the leader writes. Owned by the reconcile manager (one per led
 * environment, dropped with the leadership, so a new fence starts empty); a pass without one
 * reads everything, as before.
 *
 * Desired documents are written by the leader alone (setDesired, fenced): once a pass has read
 * or written a host's document, the next passes compare the planned document's digest with
 * the one remembered instead of GETting and parsing every host's document (at 1,250 hosts and
 * 25,000 instances that read was a third of a pass's memory). An entry holds while the host
 * record keeps the revision it had: a re-registered host (new secrets key, so its sealed
 * document must be written again) or any other change to the host reads its document anew.
 * The same holds for the environment's DNS document, and the records themselves are kept
 * while the environment's revision stays where the leader's own last write left it.
 */
export interface PassCache {
  /** Host id → the digest of the desired document stored for it, and the host record's rev when that was known. */
  desired: Map<string, { hostRev: number; digest: string }>;
  /** The records as of the last pass (snapshot-cache.ts). */
  snapshot: SnapshotCache;
  /**
   * The DNS document the leader last read or wrote (written only by the leader, setDns): the
   * next pass compares its directory with this one instead of reading it again.
   */
  dns?: EnvDnsDocument;
}

export function newPassCache(): PassCache {
  return { desired: new Map(), snapshot: {} };
}
