/**
 * What importing a compose pair into a stack writes, as one batch (all or nothing): the
 * stack if it is new, each service and load balancer of the file created or, when the stack
 * already has one of that name, replaced by the file's spec (a container change is a rolling
 * upgrade, as a PUT would be). What the file does not mention is left as it is (as
 * `rancher-compose up` did), and said so in the answer. Secrets, HAProxy timeouts and drain
 * times, which compose files cannot carry, are kept from the current records, so importing
 * an exported stack changes nothing.
 */
import { DroverError } from "../../protocol/errors";
import type { LoadBalancerRecord, ServiceRecord, StackRecord } from "../../protocol/model";
import { validateLoadBalancerCreate, validateLoadBalancerUpdate } from "../../protocol/validate/load-balancer";
import { validateServiceCreate, validateServiceUpdate } from "../../protocol/validate/service";
import type { EnvSnapshot, WriteBatch } from "../../store/store";
import { certificateIdByName, serviceIdByName, type ComposeStack } from "../../compose";
import { assertPortsFree } from "./load-balancers";
import { assertPlaceable, withSpec } from "./services";
import type { StackCreate } from "../../protocol/validate/stack";

export interface ImportOutcome {
  stack: StackRecord;
  stackCreated: boolean;
  services: { id: string; name: string; action: "created" | "updated" | "unchanged" }[];
  loadBalancers: { id: string; name: string; action: "created" | "updated" | "unchanged" }[];
  /** Services and load balancers of the stack the files do not mention (left as they are). */
  notInFiles: string[];
}

export interface ImportIds {
  stack: () => string;
  service: () => string;
  loadBalancer: () => string;
}

const live = (s: { state: string }) => s.state !== "removing" && s.state !== "removed";

export function planImport(snap: EnvSnapshot, input: StackCreate, composed: ComposeStack, mustBeNew: boolean, ids: ImportIds, now: string): { batch: WriteBatch; result: ImportOutcome } {
  const put: NonNullable<WriteBatch["put"]> = [];
  const existing = snap.stacks.find((s) => s.name === input.name && s.state !== "removed");
  if (existing && mustBeNew) throw new DroverError("Conflict", `a stack named ${input.name} already exists in this environment (import into it with ?action=import)`, { field: "name" });
  if (existing && existing.state !== "active") throw new DroverError("Conflict", `stack ${input.name} is ${existing.state}; it takes no import`, { field: "name" });
  const stack: StackRecord = existing ?? { id: ids.stack(), envId: snap.env.id, ...input, state: "active", createdAt: now, rev: snap.rev };
  if (!existing) put.push({ kind: "stack", record: stack });
  const currentServices = new Map(snap.services.filter((s) => s.stackId === stack.id && live(s)).map((s) => [s.name, s]));
  const currentLbs = new Map((snap.loadBalancers ?? []).filter((lb) => lb.stackId === stack.id && live(lb)).map((lb) => [lb.name, lb]));
  const local = new Map<string, string>();
  const placeholders: ServiceRecord[] = [];
  for (const s of composed.services) {
    const id = currentServices.get(s.name)?.id ?? ids.service();
    local.set(s.name, id);
    if (!currentServices.has(s.name)) {
      placeholders.push({ id, envId: snap.env.id, stackId: stack.id, name: s.name, spec: s.spec, specVersion: 1, state: "active", transitioning: "yes", createdAt: now, rev: snap.rev });
    }
  }
  const scope = { ...snap, stacks: existing ? snap.stacks : [...snap.stacks, stack], services: [...snap.services, ...placeholders] };
  const outcome: ImportOutcome = { stack, stackCreated: !existing, services: [], loadBalancers: [], notInFiles: [] };
  const reference = (ref: string, path: string) => {
    const id = serviceIdByName(ref, local, scope);
    if (id === undefined) throw new DroverError("InvalidField", `dockerCompose: ${path}: ${ref} is not a live service of this environment (external links name "stack/service")`, { field: "dockerCompose" });
    return id;
  };
  for (const s of composed.services) {
    const links = Object.fromEntries(Object.entries(s.spec.links).map(([alias, ref]) => [alias, reference(ref, `services.${s.name}.links.${alias}`)]));
    const body = { ...s.spec, links, stackId: stack.id, name: s.name };
    const current = currentServices.get(s.name);
    const refs = { ...scope, services: scope.services.filter((x) => x.id !== local.get(s.name) || current) };
    if (!current) {
      const created = named(s.name, () => validateServiceCreate(body, refs));
      const record: ServiceRecord = { id: local.get(s.name)!, envId: snap.env.id, stackId: stack.id, name: s.name, spec: created.spec, specVersion: 1, state: "active", transitioning: "yes", createdAt: now, rev: snap.rev };
      put.push({ kind: "service", record });
      outcome.services.push({ id: record.id, name: s.name, action: "created" });
      continue;
    }
    const spec = named(s.name, () => validateServiceUpdate(body, current, refs, "replace"));
    if (current.spec.secrets) spec.secrets = current.spec.secrets;
    if (sameSet(spec.ports, current.spec.ports)) spec.ports = current.spec.ports;
    if (canonical(spec) === canonical(current.spec)) {
      outcome.services.push({ id: current.id, name: s.name, action: "unchanged" });
      continue;
    }
    assertPlaceable(snap, current, spec);
    const plan = withSpec(current, spec, now);
    if ("batch" in plan) put.push(...plan.batch.put);
    outcome.services.push({ id: current.id, name: s.name, action: "updated" });
  }
  for (const lb of composed.loadBalancers) {
    const portRules = lb.spec.portRules.map((r, i) => ({ ...r, targetServiceId: reference(r.targetServiceId, `services.${lb.name}.lb_config.port_rules[${i}].service`) }));
    const cert = (name: string, path: string) => {
      const id = certificateIdByName(name, snap);
      if (!id) throw new DroverError("InvalidField", `rancherCompose: ${path}: no active certificate named ${name} in this environment (add it first: drover certificate add)`, { field: "rancherCompose" });
      return id;
    };
    const current = currentLbs.get(lb.name);
    const body = {
      ...lb.spec, portRules, stackId: stack.id, name: lb.name,
      certificateIds: lb.spec.certificateIds.map((n, i) => cert(n, `services.${lb.name}.lb_config.certs[${i}]`)),
      ...(lb.spec.defaultCertificateId ? { defaultCertificateId: cert(lb.spec.defaultCertificateId, `services.${lb.name}.lb_config.default_cert`) } : {}),
      ...(current?.spec.timeouts ? { timeouts: current.spec.timeouts } : {}),
      ...(current?.spec.drainTimeoutMillis !== undefined ? { drainTimeoutMillis: current.spec.drainTimeoutMillis } : {}),
    };
    if (!current) {
      const created = named(lb.name, () => validateLoadBalancerCreate(body, scope));
      const record: LoadBalancerRecord = { id: ids.loadBalancer(), envId: snap.env.id, stackId: stack.id, name: lb.name, spec: created.spec, state: "active", transitioning: "yes", served: false, createdAt: now, rev: snap.rev };
      assertPortsFree(record, { ...snap, services: scope.services });
      put.push({ kind: "loadBalancer", record });
      outcome.loadBalancers.push({ id: record.id, name: lb.name, action: "created" });
      continue;
    }
    const spec = named(lb.name, () => validateLoadBalancerUpdate(body, current, scope, "replace"));
    if (canonical(spec) === canonical(current.spec)) {
      outcome.loadBalancers.push({ id: current.id, name: lb.name, action: "unchanged" });
      continue;
    }
    const record: LoadBalancerRecord = { ...current, spec, transitioning: "yes" };
    assertPortsFree(record, { ...snap, services: scope.services });
    put.push({ kind: "loadBalancer", record });
    outcome.loadBalancers.push({ id: current.id, name: lb.name, action: "updated" });
  }
  const inFiles = new Set([...composed.services, ...composed.loadBalancers].map((x) => x.name));
  outcome.notInFiles = [...currentServices.keys(), ...currentLbs.keys()].filter((n) => !inFiles.has(n)).sort();
  return { batch: { put }, result: outcome };
}

/** A validator's failure, prefixed with the service it is about (`services.web: ports[0]...`). */
function named<T>(name: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof DroverError) {
      throw new DroverError(err.code, `services.${name}: ${err.message}`, { field: err.field === undefined ? `services.${name}` : `services.${name}.${err.field}`, detail: err.detail, cause: err });
    }
    throw err;
  }
}

function sameSet<T>(a: T[], b: T[]): boolean {
  return a.length === b.length && canonical([...a].map(canonical).sort()) === canonical([...b].map(canonical).sort());
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]])) : v);
}
