import type { DnsDirectory, DnsService } from "./directory";
import { DROVER_DOMAIN } from "./directory";
import { fqdn, normalizeName } from "./names";

/**
 * Names one view can see. `names`: name → addresses (empty when the service has no live
 * instance). `parents`: names that exist only because names sit below them
 * (`stack.drover.internal`, `stack`): they get NOERROR with no answers, never NXDOMAIN, so
 * a resolver cannot conclude from an NXDOMAIN that the names below do not exist (RFC 8020).
 */
export interface NameTable {
  readonly names: Map<string, readonly string[]>;
  readonly parents: Set<string>;
}

/**
 * What the containers of one service may resolve. `own` holds what the service itself
 * earned (its name, its links); `stack` is shared by every service of a stack with
 * stack-wide discovery, so building it costs O(services), not O(services²). `own` wins.
 */
export interface DnsView {
  /** Unique within its index; part of the responder's answer-cache key. */
  readonly id: number;
  readonly own: NameTable;
  readonly stack?: NameTable;
}

export interface DnsIndex {
  readonly viewBySource: Map<string, DnsView>;
  /** The view of a source IP the directory does not know: it sees no drover name. */
  readonly unknownSource: DnsView;
  /**
   * Names outside `drover.internal` that still belong to drover: single labels equal to a
   * service, stack or link-alias name, and existing `svc.stack` pairs. A container that may
   * not see one gets NXDOMAIN instead of having the name leak to the upstream resolvers.
   */
  readonly claimed: Set<string>;
}

/** Priorities when two names collide inside one view: an explicit link alias wins. */
const enum Rank { Qualified = 1, OwnName = 2, Alias = 3 }

class TableBuilder {
  readonly table: NameTable = { names: new Map(), parents: new Set() };
  private readonly ranks = new Map<string, Rank>();

  set(name: string, ips: readonly string[], rank: Rank): void {
    const had = this.ranks.get(name);
    if (had !== undefined && had > rank) return;
    this.ranks.set(name, rank);
    this.table.names.set(name, ips);
  }

  /** `svc.stack`, `svc.stack.drover.internal` and the empty names above them. */
  addQualified(svc: string, stack: string, ips: readonly string[]): void {
    this.set(`${svc}.${stack}`, ips, Rank.Qualified);
    this.set(fqdn(svc, stack), ips, Rank.Qualified);
    this.table.parents.add(stack);
    this.table.parents.add(`${stack}.${DROVER_DOMAIN}`);
    this.table.parents.add(DROVER_DOMAIN);
  }
}

const EMPTY: readonly string[] = Object.freeze([]);

/**
 * Builds the per-source-IP index from a directory, once per directory, so each query is a
 * couple of map lookups. Runs in O(instances + services + links).
 */
export function buildDnsIndex(directory: DnsDirectory): DnsIndex {
  const stacks = new Map(directory.stacks.map((s) => [s.id, { name: normalizeName(s.name), wide: s.stackWideDiscovery }]));
  const services = new Map(directory.services.map((s) => [s.id, s]));

  // Addresses that may be handed out: running, not draining, and healthy where a health check exists.
  const live = new Map<string, string[]>();
  for (const inst of directory.instances) {
    if (!inst.running || inst.healthy === false || inst.draining || !inst.ip) continue;
    let ips = live.get(inst.serviceId);
    if (!ips) live.set(inst.serviceId, (ips = []));
    ips.push(inst.ip);
  }
  for (const ips of live.values()) Object.freeze(ips); // shared by every view: nobody may shuffle them in place
  const addresses = (serviceId: string): readonly string[] => live.get(serviceId) ?? EMPTY;
  const stackNameOf = (svc: DnsService): string | undefined => stacks.get(svc.stackId)?.name;

  const claimed = new Set<string>();
  for (const stack of stacks.values()) claimed.add(stack.name);
  for (const svc of directory.services) {
    const name = normalizeName(svc.name);
    const stack = stackNameOf(svc);
    claimed.add(name);
    if (stack) claimed.add(`${name}.${stack}`);
    for (const alias of Object.keys(svc.links)) {
      const a = normalizeName(alias);
      if (!a.includes(".")) claimed.add(a);
    }
  }

  let nextId = 1;
  const stackBuilders = new Map<string, TableBuilder>();
  for (const svc of directory.services) {
    const stack = stacks.get(svc.stackId);
    if (!stack?.wide) continue;
    let b = stackBuilders.get(svc.stackId);
    if (!b) stackBuilders.set(svc.stackId, (b = new TableBuilder()));
    b.set(normalizeName(svc.name), addresses(svc.id), Rank.OwnName);
    b.addQualified(normalizeName(svc.name), stack.name, addresses(svc.id));
  }
  const stackTables = new Map([...stackBuilders].map(([id, b]) => [id, b.table]));

  const viewByService = new Map<string, DnsView>();
  const viewOf = (svc: DnsService): DnsView => {
    let view = viewByService.get(svc.id);
    if (view) return view;
    const b = new TableBuilder();
    const stack = stackNameOf(svc);
    b.set(normalizeName(svc.name), addresses(svc.id), Rank.OwnName);
    if (stack) b.addQualified(normalizeName(svc.name), stack, addresses(svc.id));
    for (const [alias, targetId] of Object.entries(svc.links)) {
      const target = services.get(targetId);
      if (!target) continue; // a link to a service that is gone: the alias stays unresolvable
      b.set(normalizeName(alias), addresses(target.id), Rank.Alias);
      const targetStack = stackNameOf(target);
      if (targetStack) b.addQualified(normalizeName(target.name), targetStack, addresses(target.id));
      // A linked service of the asker's own stack also answers to its bare name (Rancher's
      // "svc within the stack"); one of another stack does not: there the bare name could
      // mean a service of the asker's stack, so it is reached by its alias or svc.stack.
      if (target.stackId === svc.stackId) b.set(normalizeName(target.name), addresses(target.id), Rank.OwnName);
    }
    view = { id: nextId++, own: b.table, stack: stackTables.get(svc.stackId) };
    viewByService.set(svc.id, view);
    return view;
  };

  const viewBySource = new Map<string, DnsView>();
  // Every instance with an address gets its view, running or not: the directory may lag
  // behind a container that has just started and is already asking. If a stopped record
  // still holds an address that a running instance now has, the running one wins.
  const runningAt = new Set<string>();
  for (const inst of directory.instances) {
    const svc = services.get(inst.serviceId);
    if (!svc || !inst.ip || runningAt.has(inst.ip)) continue;
    viewBySource.set(inst.ip, viewOf(svc));
    if (inst.running) runningAt.add(inst.ip);
  }
  return { viewBySource, unknownSource: { id: 0, own: { names: new Map(), parents: new Set() } }, claimed };
}
