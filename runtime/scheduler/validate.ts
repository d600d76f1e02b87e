/**
 * Syntax checks for a service's scheduling labels. Rancher silently ignored what it could
 * not read, so a typo meant a rule that never applied; drover rejects it instead and says
 * which label is wrong and what was expected.
 */
import { editDistance } from "../protocol/suggest";
import { DroverError } from "../protocol/errors";
import {
  AFFINITY_KINDS,
  AffinityVariant,
  KNOWN_SCHEDULER_LABELS,
  affinityLabelKey,
  affinityVariantOf,
  isGlobalLabel,
  isSchedulerLabel,
  ruleName,
} from "./label-keys";
import { splitPair, splitRuleValue } from "./labels";
import { macroProblems } from "./macros";

export interface SchedulingLabelError {
  /** The API field, e.g. `labels["io.rancher.scheduler.affinity:host_label"]`. */
  field: string;
  /** The label key as the user wrote it. */
  labelKey: string;
  message: string;
}

const pairExample = 'key=value pairs separated by commas, e.g. "zone=a,disk=ssd"';
const nameExample = 'container names separated by commas, e.g. "db-1,cache-1"';
/** Docker's container name syntax, after macros are taken out. */
const containerNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function labelField(labelKey: string, prefix = "labels"): string {
  return `${prefix}[${JSON.stringify(labelKey)}]`;
}

export function validateSchedulingLabels(labels: Record<string, string>, fieldPrefix = "labels"): SchedulingLabelError[] {
  const errors: SchedulingLabelError[] = [];
  const report = (labelKey: string, message: string) =>
    errors.push({ field: labelField(labelKey, fieldPrefix), labelKey, message: `${labelKey}: ${message}` });

  for (const [key, value] of Object.entries(labels)) {
    if (!isSchedulerLabel(key)) continue;
    if (typeof value !== "string") {
      report(key, `expected a string value, got ${value === null ? "null" : typeof value}`);
      continue;
    }
    if (isGlobalLabel(key)) {
      const v = value.trim().toLowerCase();
      if (v !== "true" && v !== "false") report(key, `expected "true" or "false", got ${JSON.stringify(value)}`);
      continue;
    }
    const variant = affinityVariantOf(key);
    if (!variant) {
      report(key, unknownKeyMessage(key));
      continue;
    }
    for (const problem of valueProblems(variant, value)) report(key, problem);
  }
  for (const [labelKey, message] of contradictions(labels)) report(labelKey, message);
  return errors;
}

/** Throws the first problem as a DroverError("InvalidField") (422), with all of them in `detail`. */
export function assertValidSchedulingLabels(labels: Record<string, string>, fieldPrefix = "labels"): void {
  const errors = validateSchedulingLabels(labels, fieldPrefix);
  if (errors.length === 0) return;
  throw new DroverError("InvalidField", errors[0].message, {
    field: errors[0].field,
    detail: { errors: errors.map((e) => ({ field: e.field, message: e.message })) },
  });
}

function valueProblems(variant: AffinityVariant, value: string): string[] {
  const expected = variant.kind === "container" ? nameExample : pairExample;
  if (value.trim() === "") return [`empty value; expected ${expected}`];
  const problems: string[] = [];
  splitRuleValue(value).forEach((item, i) => {
    if (item === "") {
      problems.push(`item ${i + 1} is empty (a doubled or trailing comma?); expected ${expected}`);
      return;
    }
    problems.push(...macroProblems(item).map((p) => `item ${JSON.stringify(item)}: ${p}`));
    if (variant.kind === "container") {
      if (item.includes("=")) {
        const labelVariant = affinityLabelKey({ ...variant, kind: "container_label" });
        problems.push(`item ${JSON.stringify(item)} is a label, but this rule takes ${nameExample}; for labels use ${labelVariant}`);
      } else if (!containerNamePattern.test(withoutMacros(item))) {
        problems.push(`item ${JSON.stringify(item)} is not a container name; expected ${nameExample}`);
      }
      return;
    }
    const pair = splitPair(item);
    if (!pair) problems.push(`item ${JSON.stringify(item)} has no "="; expected ${expected}`);
    else if (pair.key === "") problems.push(`item ${JSON.stringify(item)} has an empty key; expected ${expected}`);
    else if (pair.value === "") problems.push(`item ${JSON.stringify(item)} has an empty value; expected ${expected}`);
  });
  return problems;
}

function withoutMacros(text: string): string {
  return text.replace(/\$?\$\{[^}]*\}/g, "x");
}

/** Hard rules that no host could ever satisfy, reported against the plain rule's key. */
function contradictions(labels: Record<string, string>): Array<[string, string]> {
  // Items of every affinity label, grouped by rule name (`host_label_ne`, ...).
  const itemsByRule = new Map<string, Array<{ labelKey: string; text: string }>>();
  for (const [labelKey, value] of Object.entries(labels)) {
    const variant = affinityVariantOf(labelKey);
    if (!variant || typeof value !== "string") continue;
    const list = itemsByRule.get(ruleName(variant)) ?? [];
    for (const text of splitRuleValue(value)) if (text !== "") list.push({ labelKey, text });
    itemsByRule.set(ruleName(variant), list);
  }
  const found: Array<[string, string]> = [];

  // host_label: a host has one value per key, so two values for one key can never both match.
  const valueByKey = new Map<string, string>();
  for (const { labelKey, text } of itemsByRule.get("host_label") ?? []) {
    const pair = splitPair(text);
    if (!pair || pair.key === "") continue;
    const seen = valueByKey.get(pair.key.toLowerCase());
    if (seen !== undefined && seen !== pair.value.toLowerCase()) {
      found.push([labelKey, `can never match: a host has one value for "${pair.key}", but this asks for both "${seen}" and "${pair.value}"`]);
    }
    valueByKey.set(pair.key.toLowerCase(), pair.value.toLowerCase());
  }
  // The same item both required and forbidden.
  for (const kind of AFFINITY_KINDS) {
    const forbidden = new Set((itemsByRule.get(`${kind}_ne`) ?? []).map((it) => normalizeItem(it.text)));
    for (const { labelKey, text } of itemsByRule.get(kind) ?? []) {
      if (forbidden.has(normalizeItem(text))) {
        found.push([labelKey, `can never match: ${JSON.stringify(text)} is also forbidden by ${affinityLabelKey({ kind, soft: false, negate: true })}`]);
      }
    }
  }
  return found;
}

function normalizeItem(text: string): string {
  const pair = splitPair(text);
  return (pair ? `${pair.key}=${pair.value}` : text).toLowerCase();
}

function unknownKeyMessage(key: string): string {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const known of KNOWN_SCHEDULER_LABELS) {
    const d = editDistance(lower, known);
    if (d < bestDistance) [best, bestDistance] = [known, d];
  }
  const hint = best !== undefined && bestDistance <= 4 ? ` (did you mean ${best}?)` : "";
  return `unknown scheduling label${hint}; expected one of ${KNOWN_SCHEDULER_LABELS.join(", ")}`;
}

