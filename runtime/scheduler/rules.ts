/**
 * The rule engine: a service's scheduling labels compiled into checks that read a host's
 * counters. Every rule looks only at its own host, so placing an instance on one host never
 * changes whether another host passes; the scheduler relies on that.
 */
import { AffinityKind, AffinityVariant, ruleName } from "./label-keys";
import { parseSchedulingLabels } from "./labels";
import { expandMacros } from "./macros";
import { describePort, normalizeIp, portKey, portsClash } from "./ports";
import type { HostSlot } from "./snapshot-index";
import { labelPairKey } from "./snapshot-index";
import { STACK_SERVICE_NAME_LABEL } from "./system-labels";
import type { HostPort, ServiceToPlace } from "./types";

/** One item of one rule, ready to look up. */
export interface CompiledCheck {
  kind: AffinityKind;
  negate: boolean;
  /** e.g. `container_label_ne`, for reasons. */
  rule: string;
  /** The item after macro expansion, as the user would recognise it. */
  text: string;
  /** host_label: lowercased key and value. */
  key: string;
  value: string;
  /** container_label: labelPairKey; container: lowercased name. */
  lookup: string;
}

export interface CompiledRules {
  global: boolean;
  /** Every hard item must hold. */
  hard: CompiledCheck[];
  /** Each soft item that holds adds one to a host's score (Rancher kept as many as it could). */
  soft: CompiledCheck[];
  /** The service's host ports, with their lookup keys worked out once. */
  ports: Array<{ port: HostPort; key: string; ip: string }>;
}

export function compileRules(service: ServiceToPlace): CompiledRules {
  const parsed = parseSchedulingLabels(service.labels);
  const ctx = { stackName: service.stackName, serviceName: service.name };
  const hard: CompiledCheck[] = [];
  const soft: CompiledCheck[] = [];
  for (const rule of parsed.rules) {
    for (const item of rule.items) {
      const check = compileCheck(rule, expandMacros(item.key ?? "", ctx), expandMacros(item.value, ctx), service.stackName);
      (rule.soft ? soft : hard).push(check);
    }
  }
  const ports = service.ports.map((port) => ({ port, key: portKey(port), ip: normalizeIp(port.ip) }));
  return { global: parsed.global, hard, soft, ports };
}

function compileCheck(variant: AffinityVariant, key: string, value: string, stackName: string): CompiledCheck {
  const rule = ruleName(variant);
  const base = { kind: variant.kind, negate: variant.negate, rule };
  if (variant.kind === "container") {
    return { ...base, text: value, key: "", value: "", lookup: value.toLowerCase() };
  }
  // Rancher let `io.rancher.stack_service.name=web` mean the service web of the same stack.
  if (variant.kind === "container_label" && key.toLowerCase() === STACK_SERVICE_NAME_LABEL && !value.includes("/")) {
    value = `${stackName}/${value}`;
  }
  return { ...base, text: `${key}=${value}`, key: key.toLowerCase(), value: value.toLowerCase(), lookup: labelPairKey(key, value) };
}

/** Whether the host has what the check names (before `_ne` is applied). */
function matches(slot: HostSlot, check: CompiledCheck): boolean {
  switch (check.kind) {
    case "host_label":
      return slot.labelIndex.get(check.key) === check.value;
    case "container_label":
      return slot.containerLabels.has(check.lookup);
    case "container":
      return slot.containerNames.has(check.lookup);
  }
}

/**
 * Whether the host takes new instances at all, whatever the service: its agent is active and
 * its Docker data root has room (docker-disk.ts).
 */
export function takesNewInstances(slot: HostSlot): boolean {
  return slot.state === "active" && slot.diskShortage === undefined;
}

/** Hard rules and ports only; whether the host takes instances at all is takesNewInstances(). Allocation-free: it runs per host per placement. */
export function passesHardRules(slot: HostSlot, rules: CompiledRules): boolean {
  for (const check of rules.hard) if (matches(slot, check) === check.negate) return false;
  for (const p of rules.ports) if (slot.ports.conflictsAt(p.key, p.ip)) return false;
  return true;
}

export function softScore(slot: HostSlot, rules: CompiledRules): number {
  let score = 0;
  for (const check of rules.soft) if (matches(slot, check) !== check.negate) score++;
  return score;
}

/** Short reasons why `slot` cannot take an instance now, e.g. `port 80/tcp in use (instance web-1)`. */
export function explainHost(slot: HostSlot, rules: CompiledRules): string[] {
  if (slot.state !== "active") return [`host is ${slot.state}`];
  const reasons: string[] = slot.diskShortage !== undefined ? [slot.diskShortage] : [];
  for (const check of rules.hard) {
    const matched = matches(slot, check);
    if (matched !== check.negate) continue;
    if (!matched) reasons.push(`${check.rule} ${check.text} not present`);
    else reasons.push(`${check.rule} ${check.text} matched${check.kind === "host_label" ? "" : ` (instance ${culpritName(slot, check)})`}`);
  }
  for (const { port, key, ip } of rules.ports) {
    if (!slot.ports.conflictsAt(key, ip)) continue;
    const holder = [...slot.instances.values()].find((e) => e.instance.ports.some((q) => portsClash(port, q)));
    reasons.push(`port ${describePort(port)} in use${holder ? ` (instance ${displayName(holder.instance)})` : ""}`);
  }
  return reasons;
}

/** The first instance on the host that an `_ne` container rule matched. */
function culpritName(slot: HostSlot, check: CompiledCheck): string {
  for (const { instance, keys } of slot.instances.values()) {
    const hit = check.kind === "container" ? keys.names.includes(check.lookup) : keys.labelPairs.includes(check.lookup);
    if (hit) return displayName(instance);
  }
  return "?";
}

function displayName(instance: { id: string; name: string }): string {
  return instance.name !== "" ? instance.name : instance.id;
}

/**
 * The hard host-label rules a host with `labels` breaks for `service` (`host_label zone=a not
 * present`, `host_label_ne zone=b matched`). Used when a host's labels change under running
 * instances: only host labels are judged, since container rules depend on the very instances
 * that would move. Pure.
 */
export function hostLabelViolations(labels: Record<string, string>, service: ServiceToPlace): string[] {
  const index = new Map(Object.entries(labels).map(([k, v]) => [k.toLowerCase(), String(v).toLowerCase()]));
  const out: string[] = [];
  for (const check of compileRules(service).hard) {
    if (check.kind !== "host_label") continue;
    const matched = index.get(check.key) === check.value;
    if (matched === check.negate) out.push(`${check.rule} ${check.text} ${matched ? "matched" : "not present"}`);
  }
  return out;
}
