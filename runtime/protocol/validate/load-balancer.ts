/**
 * Load balancer bodies. Create takes `stackId` and `name` (fixed for its life) and the spec
 * fields; PUT replaces the spec (`portRules` required, other fields back to defaults), PATCH
 * changes only the fields it names. Rules that span fields (one protocol per source port,
 * https needs a certificate) are checked on the resulting spec, so a PATCH cannot sneak
 * past them. Every target service must be a live service of the same environment.
 */
import type { LoadBalancerRecord, LoadBalancerSpec, PortRuleSpec, ServiceRecord, StackRecord } from "../../protocol/model";
import { GLOBAL_LABEL } from "../../scheduler";
import { MAX_SCALE } from "./actions";
import { readSchedulingLabels } from "./labels";
import { Problems } from "./problems";
import { ObjectReader, indexPath } from "./reader";
import { ID, NAME } from "./rules";
import type { UpdateMode } from "./stack";

export interface LoadBalancerRefs {
  stacks: StackRecord[];
  services: ServiceRecord[];
  loadBalancers?: LoadBalancerRecord[];
}

export interface LoadBalancerCreate {
  stackId: string;
  name: string;
  spec: LoadBalancerSpec;
}

const SPEC_FIELDS = ["portRules", "certificateIds", "defaultCertificateId", "scale", "global", "labels", "scheduling"];
const FIELDS = ["stackId", "name", ...SPEC_FIELDS];
const RULE_FIELDS = ["sourcePort", "protocol", "hostname", "path", "targetServiceId", "targetPort", "priority"];
const PROTOCOLS = ["http", "tcp", "https"] as const;
const MAX_RULES = 100;
const MAX_CERTS = 100;

/** A Host header to match: a DNS name, optionally `*.` in front or `.*` at the end (HAProxy's wildcards). */
const RULE_HOSTNAME = {
  expected: 'a hostname such as "www.example.com", "*.example.com" or "example.*", at most 253 characters',
  pattern: /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(\.\*)?$/,
  maxLength: 253,
};
const RULE_PATH = { expected: 'a path that starts with "/" and has no spaces, at most 1024 characters', pattern: /^\/[\x21-\x7e]*$/, maxLength: 1024 };

export function defaultLoadBalancerSpec(): LoadBalancerSpec {
  return { portRules: [], certificateIds: [], scale: 1, global: false, labels: {} };
}

export function validateLoadBalancerCreate(body: unknown, refs: LoadBalancerRefs): LoadBalancerCreate {
  const p = new Problems();
  const r = new ObjectReader(p, body, "", FIELDS);
  const stackId = r.string("stackId", { ...ID, required: true });
  const name = r.string("name", { ...NAME, required: true });
  if (r.valid && !r.has("portRules")) p.missing("portRules", "a list of port rules");
  const given = readSpecFields(p, r, refs, {});
  const stack = stackId === undefined ? undefined : refs.stacks.find((s) => s.id === stackId);
  if (stackId !== undefined && !stack) p.invalid("stackId", "the id of a stack in this environment", stackId);
  else if (stack && stack.state !== "active") p.invalid("stackId", `a stack that is not being removed (${stack.id} is ${stack.state})`, stackId);
  const spec = finishSpec({ ...defaultLoadBalancerSpec(), ...given }, given);
  if (p.ok) checkSpec(p, spec);
  if (p.ok) {
    // Services and load balancers share a stack's names: both become `name.stack` in DNS.
    if ((refs.loadBalancers ?? []).some((lb) => lb.stackId === stackId && lb.name === name)) {
      p.add("Conflict", "name", `a load balancer named ${name} already exists in stack ${stack!.name}`);
    } else if (refs.services.some((s) => s.stackId === stackId && s.name === name && s.state !== "removed")) {
      p.add("Conflict", "name", `a service named ${name} already exists in stack ${stack!.name}`);
    }
  }
  p.throwIfAny();
  return { stackId: stackId!, name: name!, spec };
}

/** The load balancer's spec after a PUT ("replace") or PATCH ("merge"). */
export function validateLoadBalancerUpdate(body: unknown, current: LoadBalancerRecord, refs: LoadBalancerRefs, mode: UpdateMode): LoadBalancerSpec {
  const p = new Problems();
  const r = new ObjectReader(p, body, "", FIELDS);
  const stackId = r.string("stackId", ID);
  if (stackId !== undefined && stackId !== current.stackId) p.invalid("stackId", `the load balancer's stack ${current.stackId} (a load balancer cannot move)`, stackId);
  const name = r.string("name", NAME);
  if (name !== undefined && name !== current.name) p.invalid("name", `the load balancer's name ${current.name} (names cannot change)`, name);
  if (mode === "replace" && r.valid && !r.has("portRules")) p.missing("portRules", "a list of port rules");
  const given = readSpecFields(p, r, refs, mode === "merge" ? current.spec.labels : {});
  const base = mode === "replace" ? defaultLoadBalancerSpec() : current.spec;
  const spec = finishSpec({ ...base, ...given }, given);
  if (p.ok) checkSpec(p, spec);
  p.throwIfAny();
  return spec;
}

/** The spec fields the body gives (and only those), with scheduling merged into labels. */
function readSpecFields(p: Problems, r: ObjectReader, refs: LoadBalancerRefs, baseLabels: Record<string, string>): Partial<LoadBalancerSpec> {
  const out: Partial<LoadBalancerSpec> = {};
  if (r.has("portRules")) {
    const rules = validatePortRules(p, r.raw("portRules"), refs);
    if (rules !== undefined) out.portRules = rules;
  }
  if (r.has("certificateIds")) {
    const ids = r.stringList("certificateIds", MAX_CERTS, { ...ID, expected: "a certificate id" });
    if (ids !== undefined) {
      const dup = ids.findIndex((id, i) => ids.indexOf(id) !== i);
      if (dup >= 0) p.invalid(indexPath("certificateIds", dup), "an id not already listed", ids[dup]);
      else out.certificateIds = ids;
    }
  }
  const defaultCertificateId = r.string("defaultCertificateId", { ...ID, expected: "a certificate id" });
  if (defaultCertificateId !== undefined) out.defaultCertificateId = defaultCertificateId;
  const scale = r.integer("scale", 0, MAX_SCALE);
  if (scale !== undefined) out.scale = scale;
  const global = r.boolean("global");
  if (global !== undefined) out.global = global;
  const labels = readSchedulingLabels(p, r, baseLabels);
  if (labels !== undefined) out.labels = labels;
  return out;
}

function validatePortRules(p: Problems, value: unknown, refs: LoadBalancerRefs): PortRuleSpec[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_RULES) {
    p.invalid("portRules", `a list of 1 to ${MAX_RULES} port rules`, value);
    return undefined;
  }
  const before = p.list.length;
  const rules = value.map((item, i) => validatePortRule(p, item, indexPath("portRules", i), refs));
  return p.list.length === before ? (rules as PortRuleSpec[]) : undefined;
}

function validatePortRule(p: Problems, value: unknown, path: string, refs: LoadBalancerRefs): PortRuleSpec | undefined {
  const r = new ObjectReader(p, value, path, RULE_FIELDS);
  const sourcePort = r.integer("sourcePort", 1, 65535, true);
  const protocol = (r.string("protocol", { expected: "one of http, tcp, https", oneOf: PROTOCOLS }) ?? "http") as PortRuleSpec["protocol"];
  const hostname = r.string("hostname", RULE_HOSTNAME);
  const rulePath = r.string("path", RULE_PATH);
  if (protocol === "tcp") {
    // HAProxy sees no Host header or path in a tcp stream.
    if (hostname !== undefined) p.invalid(r.at("hostname"), 'no hostname on a tcp rule (only with protocol "http" or "https")', hostname);
    if (rulePath !== undefined) p.invalid(r.at("path"), 'no path on a tcp rule (only with protocol "http" or "https")', rulePath);
  }
  const targetServiceId = r.string("targetServiceId", { ...ID, expected: "the id of a service in this environment", required: true });
  if (targetServiceId !== undefined) {
    const target = refs.services.find((s) => s.id === targetServiceId);
    if (!target) p.invalid(r.at("targetServiceId"), "the id of a service in this environment", targetServiceId);
    else if (target.state === "removing" || target.state === "removed") {
      p.invalid(r.at("targetServiceId"), `a service that is not being removed (${target.id} is ${target.state})`, targetServiceId);
    }
  }
  const targetPort = r.integer("targetPort", 1, 65535, true);
  const priority = r.integer("priority", 1, 1000);
  if (!r.valid || sourcePort === undefined || targetServiceId === undefined || targetPort === undefined) return undefined;
  return {
    sourcePort, protocol,
    ...(hostname !== undefined ? { hostname } : {}),
    ...(rulePath !== undefined ? { path: rulePath } : {}),
    targetServiceId, targetPort,
    ...(priority !== undefined ? { priority } : {}),
  };
}

/** Rules that look at the whole spec. */
function checkSpec(p: Problems, spec: LoadBalancerSpec): void {
  const protocolOfPort = new Map<number, number>();
  spec.portRules.forEach((rule, i) => {
    const first = protocolOfPort.get(rule.sourcePort);
    if (first === undefined) protocolOfPort.set(rule.sourcePort, i);
    else if (spec.portRules[first].protocol !== rule.protocol) {
      // One listener per source port: HAProxy cannot serve http and tcp on the same port.
      p.invalid(`${indexPath("portRules", i)}.protocol`,
        `"${spec.portRules[first].protocol}" like portRules[${first}] on source port ${rule.sourcePort}`, rule.protocol);
    }
  });
  const https = spec.portRules.findIndex((rule) => rule.protocol === "https");
  if (https >= 0 && spec.defaultCertificateId === undefined) {
    p.missing("defaultCertificateId", `a certificate id: portRules[${https}] is https, which terminates TLS`);
  }
}

/** A Rancher global label in the given labels sets `global`, unless the body says it itself. */
function finishSpec(spec: LoadBalancerSpec, given: Partial<LoadBalancerSpec>): LoadBalancerSpec {
  const labelKey = Object.keys(given.labels ?? {}).find((k) => k.toLowerCase() === GLOBAL_LABEL);
  if (given.global === undefined && labelKey !== undefined) {
    spec.global = spec.labels[labelKey].trim().toLowerCase() === "true";
  }
  return spec;
}
