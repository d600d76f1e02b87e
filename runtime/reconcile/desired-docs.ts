import { createHash } from "crypto";
import type {
  CertificateMaterial, CertificateRecord, DesiredInstance, DesiredLoadBalancer, HealthCheckTarget, HostDesiredState,
  HostNetworkSpec, HostRecord, InstanceRecord, LoadBalancerRecord,
} from "../protocol/model";
import { sameJson } from "./same-json";
import { jsonText } from "./json-text";
import type { HeartbeatCadence } from "../protocol/heartbeat-cadence";

export interface DesiredDoc {
  hostId: string;
  instances: DesiredInstance[];
  network?: HostNetworkSpec;
  checks?: HealthCheckTarget[];
  loadBalancers?: DesiredLoadBalancer[];
  heartbeat?: HeartbeatCadence;
}

export interface DesiredDocsInput {
  hosts: HostRecord[];
  /** The instances agents should run now (held-back replacements left out). */
  instances: InstanceRecord[];
  /** The desired documents as stored now. */
  stored: Record<string, HostDesiredState | undefined>;
  networks?: Map<string, HostNetworkSpec>;
  /** Host id → the health checks its agent runs. */
  checks?: Map<string, HealthCheckTarget[]>;
  loadBalancers?: Map<string, LoadBalancerRecord>;
  certificates?: Map<string, CertificateRecord>;
  /**
   * Host id → digest (desiredDigest) of the document known to be stored, for hosts whose
   * stored document was not read (pass-cache.ts); `stored` is used for the others.
   */
  storedDigests?: Map<string, string>;
  /** The environment's heartbeat cadence when stretched (protocol/heartbeat-cadence.ts): every host's document carries it. */
  heartbeat?: HeartbeatCadence;
}

export interface DesiredDocsResult {
  /** The documents to write. */
  changed: DesiredDoc[];
  /** Host id → desiredDigest of its planned document, for every host that has one (written or not). */
  digests: Map<string, string>;
}

/**
 * The desired documents that differ from what is stored: for every host that still has an
 * agent to listen, the containers that should run there, the load balancers it serves (with
 * their certificates: only this host's document carries the keys), the health checks it runs
 * and its part of the overlay. Pure.
 */
export function changedDesiredDocs(input: DesiredDocsInput): DesiredDoc[] {
  return planDesiredDocs(input).changed;
}

/** changedDesiredDocs, with every planned document's digest (for the pass cache). Pure. */
export function planDesiredDocs(input: DesiredDocsInput): DesiredDocsResult {
  const out: DesiredDoc[] = [];
  const digests = new Map<string, string>();
  // Grouped once: filtering all instances for every host is hosts × instances per pass.
  const byHost = new Map<string, InstanceRecord[]>();
  for (const i of input.instances) {
    const list = byHost.get(i.hostId);
    if (list) list.push(i);
    else byHost.set(i.hostId, [i]);
  }
  const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  for (const host of input.hosts) {
    if (host.state === "removed" || host.state === "removing") continue;
    const own = byHost.get(host.id) ?? [];
    // The digest is taken from the records themselves (the fields toDesired copies); the
    // document is made only for a host whose digest moved or whose stored one must be compared:
    // most passes write no document, and 25,000 copies per pass were garbage.
    const containers = own.filter((i) => i.kind !== "lb").sort(byId);
    const network = input.networks?.get(host.id);
    const checks = input.checks?.get(host.id);
    const sortedChecks = checks?.length ? [...checks].sort((a, b) => a.instanceId.localeCompare(b.instanceId)) : [];
    const lbs = own.filter((i) => i.kind === "lb").flatMap((i) => {
      const lb = input.loadBalancers?.get(i.serviceId);
      return lb ? [toDesiredLoadBalancer(i, lb, input.certificates ?? new Map())] : [];
    }).sort(byId);
    const digest = digestOf(containers, network ?? null, sortedChecks, lbs, input.heartbeat ?? null);
    digests.set(host.id, digest);
    const known = input.storedDigests?.get(host.id);
    if (known !== undefined && known === digest) continue;
    const doc: DesiredDoc = { hostId: host.id, instances: containers.map(toDesired) };
    if (network) doc.network = network;
    if (sortedChecks.length) doc.checks = sortedChecks;
    if (lbs.length) doc.loadBalancers = lbs;
    if (input.heartbeat) doc.heartbeat = input.heartbeat;
    if (known !== undefined || !sameJson(comparable(doc), comparable(input.stored[host.id]))) out.push(doc);
  }
  return { changed: out, digests };
}

/**
 * A short digest of what a planned desired document asks of its agent (instances, network,
 * checks, load balancers). Both sides of a comparison are documents a pass planned, built
 * the same way from the records, so plain JSON order is stable: a record rewritten with
 * its keys in another order costs at worst one needless write of the document. Pure.
 */
export function desiredDigest(doc: DesiredDoc): string {
  const c = comparable(doc)!;
  return digestOf(c.instances, c.network, c.checks, c.loadBalancers, c.heartbeat);
}

/** desiredDigest of a document's parts, sorted as comparable sorts them (instances: records or DesiredInstances alike). */
function digestOf(
  instances: Pick<DesiredInstance, "id" | "name" | "serviceId" | "stackId" | "ip" | "spec">[],
  network: HostNetworkSpec | null, checks: HealthCheckTarget[], loadBalancers: DesiredLoadBalancer[], heartbeat: HeartbeatCadence | null,
): string {
  const hash = createHash("sha256");
  // Instance by instance, each spec's text made once per spec object (json-text.ts; a new
  // instance's comes with it from instance-factory.ts): records copied from one pass to the next
  // share their spec, and at 25,000 instances one JSON text of every document per pass was a
  // fifth of a quiet pass's time.
  for (const i of instances) hash.update(`${i.id}\0${i.name}\0${i.serviceId}\0${i.stackId}\0${i.ip ?? ""}\0${jsonText(i.spec)}\n`);
  // The cadence only when stretched: the digests of every other document stay as they were.
  hash.update(JSON.stringify(heartbeat ? { network, checks, loadBalancers, heartbeat } : { network, checks, loadBalancers }));
  return hash.digest("base64");
}

/** The parts of a document that matter, whatever their order in the stored one. */
function comparable(doc: DesiredDoc | HostDesiredState | undefined) {
  if (!doc) return null;
  const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  return {
    instances: [...doc.instances].sort(byId),
    network: doc.network ?? null,
    checks: [...(doc.checks ?? [])].sort((a, b) => a.instanceId.localeCompare(b.instanceId)),
    loadBalancers: [...(doc.loadBalancers ?? [])].sort(byId),
    heartbeat: doc.heartbeat ?? null,
  };
}

function toDesired(i: InstanceRecord): DesiredInstance {
  return { id: i.id, name: i.name, serviceId: i.serviceId, stackId: i.stackId, spec: i.spec, ...(i.ip ? { ip: i.ip } : {}) };
}

function toDesiredLoadBalancer(i: InstanceRecord, lb: LoadBalancerRecord, certificates: Map<string, CertificateRecord>): DesiredLoadBalancer {
  const material: Record<string, CertificateMaterial> = {};
  const ids = [...lb.spec.certificateIds, ...(lb.spec.defaultCertificateId ? [lb.spec.defaultCertificateId] : [])];
  for (const id of ids) {
    const c = certificates.get(id);
    if (c && c.state === "active") material[id] = { cert: c.cert, key: c.key, ...(c.chain ? { chain: c.chain } : {}) };
  }
  return { id: i.id, loadBalancerId: lb.id, name: i.name, stackId: lb.stackId, spec: lb.spec, certificates: material };
}

export { canonical } from "./canonical-json";
