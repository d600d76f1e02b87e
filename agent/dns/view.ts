import type { DnsDirectory } from "./directory";
import { buildDnsIndex, DnsIndex, DnsView } from "./view-index";
import { inDroverDomain, normalizeName } from "./names";

/**
 * What the responder does with one question. `answer` with no ips is NOERROR/NODATA: the
 * name is drover's and visible, but has no record of that type (AAAA, MX, ...) or no live
 * instance right now.
 */
export type Resolution =
  | { kind: "answer"; ips: readonly string[] }
  | { kind: "nxdomain" }
  | { kind: "forward" };

const NODATA_IPS: readonly string[] = Object.freeze([]);
const NODATA: Resolution = Object.freeze({ kind: "answer", ips: NODATA_IPS });
const NXDOMAIN: Resolution = Object.freeze({ kind: "nxdomain" });
const FORWARD: Resolution = Object.freeze({ kind: "forward" });

/** Names and parents a view sees; undefined when it sees neither. `own` wins over `stack`. */
export function lookupName(view: DnsView, name: string): readonly string[] | undefined {
  const ips = view.own.names.get(name) ?? view.stack?.names.get(name);
  if (ips !== undefined) return ips;
  if (view.own.parents.has(name) || view.stack?.parents.has(name)) return NODATA_IPS;
  return undefined;
}

export function viewFor(index: DnsIndex, sourceIp: string): DnsView {
  return index.viewBySource.get(sourceIp) ?? index.unknownSource;
}

/** Drover's names (visible to this view or not) never go upstream. */
export function isDroverName(index: DnsIndex, name: string): boolean {
  return inDroverDomain(name) || index.claimed.has(name);
}

/** Core of `resolve` on an already built index; `name` must be normalized. */
export function resolveIn(index: DnsIndex, view: DnsView, name: string, qtype: string): Resolution {
  const ips = lookupName(view, name);
  if (ips === undefined) return isDroverName(index, name) ? NXDOMAIN : FORWARD;
  // A-records only for now; ANY gets the A records, every other type NODATA.
  if (qtype !== "A" && qtype !== "ANY") return NODATA;
  return ips.length === 0 ? NODATA : { kind: "answer", ips };
}

const indexes = new WeakMap<DnsDirectory, DnsIndex>();

/** The index of a directory, built on first use. Directories are replaced, never mutated. */
export function indexFor(directory: DnsDirectory): DnsIndex {
  let index = indexes.get(directory);
  if (!index) indexes.set(directory, (index = buildDnsIndex(directory)));
  return index;
}

/**
 * What the container at `sourceIp` gets for `qname`/`qtype` (a dns-packet type name such as
 * "A" or "AAAA"). Case-insensitive. The returned ips are shared: copy before reordering.
 */
export function resolve(directory: DnsDirectory, sourceIp: string, qname: string, qtype: string): Resolution {
  const index = indexFor(directory);
  return resolveIn(index, viewFor(index, sourceIp), normalizeName(qname), qtype.toUpperCase());
}
