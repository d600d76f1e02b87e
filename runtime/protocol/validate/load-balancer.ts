/**
 * Load balancer bodies. Create takes `stackId` and `name` (fixed for its life) and the spec
 * fields; PUT replaces the spec (`portRules` required, other fields back to defaults), PATCH
 * changes only the fields it names (each as a whole: `timeouts` given replaces `timeouts`).
 * Rules that span fields (one protocol per source port, https needs a certificate, the
 * certificates are the environment's, stickiness needs an http or https rule) are checked
 * on the resulting spec, so a PATCH cannot sneak past them. Every target service must be a
 * live service of the same environment (port-rules.ts). Whether a source port is free on
 * some host is the API's to check (runtime/api/load-balancer-ports.ts): it needs the hosts.
 */
import type { CertificateRecord, LoadBalancerRecord, LoadBalancerSpec, ServiceRecord, StackRecord } from "../../protocol/model";
import { GLOBAL_LABEL } from "../../scheduler";
import { MAX_SCALE } from "./actions";
import { readSchedulingLabels } from "./labels";
import { validatePortRules } from "./port-rules";
import { Problems } from "./problems";
import { ObjectReader, indexPath } from "./reader";
import { ID, NAME } from "./rules";
import type { UpdateMode } from "./stack";

export interface LoadBalancerRefs {
  stacks: StackRecord[];
  services: ServiceRecord[];
  loadBalancers?: LoadBalancerRecord[];
  /** The environment's certificates: certificateIds must name active ones. Absent = none. */
  certificates?: CertificateRecord[];
}

export interface LoadBalancerCreate {
  stackId: string;
  name: string;
  spec: LoadBalancerSpec;
}

const SPEC_FIELDS = ["portRules", "certificateIds", "defaultCertificateId", "scale", "global", "labels", "scheduling", "stickiness", "timeouts", "drainTimeoutMillis"];
const FIELDS = ["stackId", "name", ...SPEC_FIELDS];
const MAX_CERTS = 100;
const MAX_TIMEOUT_MS = 3_600_000;
const MAX_DRAIN_MS = 600_000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 2000;
/** A cookie name is an RFC 6265 token. */
const COOKIE = { expected: "a cookie name (letters, digits and !#$%&'*+-.^_`|~, at most 64 characters)", pattern: /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, maxLength: 64 };

export function defaultLoadBalancerSpec(): LoadBalancerSpec {
  return { portRules: [], certificateIds: [], scale: 1, global: false, labels: {}, drainTimeoutMillis: DEFAULT_DRAIN_TIMEOUT_MS };
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
  if (p.ok) checkSpec(p, spec, refs);
  if (p.ok) {
    // Services and load balancers share a stack's names: both become `name.stack` in DNS.
    const holder = (refs.loadBalancers ?? []).find((lb) => lb.stackId === stackId && lb.name === name && lb.state !== "removed");
    if (holder?.state === "removing") {
      p.add("Conflict", "name", `the load balancer named ${name} in stack ${stack!.name} is being removed; its name is free once it is gone`);
    } else if (holder) {
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
  if (p.ok) checkSpec(p, spec, refs);
  p.throwIfAny();
  return spec;
}

/** The spec fields the body gives (and only those), with scheduling merged into labels. */
function readSpecFields(p: Problems, r: ObjectReader, refs: LoadBalancerRefs, baseLabels: Record<string, string>): Partial<LoadBalancerSpec> {
  const out: Partial<LoadBalancerSpec> = {};
  if (r.has("portRules")) {
    const rules = validatePortRules(p, r.raw("portRules"), refs.services);
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
  if (r.has("stickiness")) {
    const sr = new ObjectReader(p, r.raw("stickiness"), "stickiness", ["cookie"]);
    const cookie = sr.string("cookie", { ...COOKIE, required: true });
    if (cookie !== undefined) out.stickiness = { cookie };
  }
  if (r.has("timeouts")) {
    const tr = new ObjectReader(p, r.raw("timeouts"), "timeouts", ["connect", "client", "server"]);
    const timeouts: NonNullable<LoadBalancerSpec["timeouts"]> = {};
    for (const k of ["connect", "client", "server"] as const) {
      const ms = tr.integer(k, 1, MAX_TIMEOUT_MS);
      if (ms !== undefined) timeouts[k] = ms;
    }
    if (tr.valid) out.timeouts = timeouts;
  }
  const drain = r.integer("drainTimeoutMillis", 0, MAX_DRAIN_MS);
  if (drain !== undefined) out.drainTimeoutMillis = drain;
  return out;
}

/** Rules that look at the whole spec. */
function checkSpec(p: Problems, spec: LoadBalancerSpec, refs: LoadBalancerRefs): void {
  const firstOnPort = new Map<number, number>();
  spec.portRules.forEach((rule, i) => {
    const first = firstOnPort.get(rule.sourcePort);
    if (first === undefined) firstOnPort.set(rule.sourcePort, i);
    else if (spec.portRules[first].protocol !== rule.protocol) {
      // One listener per source port: HAProxy's frontend is either HTTP or TCP, and TLS is
      // either ended there (https) or passed through (tls), never both on one port.
      p.invalid(`${indexPath("portRules", i)}.protocol`,
        `"${spec.portRules[first].protocol}" like portRules[${first}] on source port ${rule.sourcePort} (one protocol per source port)`, rule.protocol);
    }
  });
  checkCertificates(p, spec, refs.certificates ?? []);
  if (spec.stickiness && !spec.portRules.some((rule) => rule.protocol === "http" || rule.protocol === "https")) {
    p.add("InvalidField", "stickiness", "only with an http or https rule: every rule here is tcp or tls, where HAProxy sees no cookies");
  }
}

function checkCertificates(p: Problems, spec: LoadBalancerSpec, certificates: CertificateRecord[]): void {
  spec.certificateIds.forEach((id, i) => {
    const cert = certificates.find((c) => c.id === id);
    if (!cert) p.invalid(indexPath("certificateIds", i), "the id of a certificate in this environment", id);
    else if (cert.state !== "active") p.invalid(indexPath("certificateIds", i), `an active certificate (${id} is ${cert.state})`, id);
  });
  const listed = spec.certificateIds.length ? spec.certificateIds.join(", ") : "none listed";
  if (spec.defaultCertificateId !== undefined && !spec.certificateIds.includes(spec.defaultCertificateId)) {
    p.invalid("defaultCertificateId", `one of certificateIds (${listed})`, spec.defaultCertificateId);
  }
  const https = spec.portRules.findIndex((rule) => rule.protocol === "https");
  if (https >= 0 && spec.certificateIds.length === 0) {
    p.missing("certificateIds", `at least one certificate id: portRules[${https}] is https, which ends TLS with the load balancer's certificates`);
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
