/**
 * The typed form of the scheduling rules (for the Pulumi provider and the API), and its
 * conversion to Rancher's labels, so there is only one rule engine: the labels one.
 */
import { AffinityVariant, GLOBAL_LABEL, affinityLabelKey } from "./label-keys";
import { parseSchedulingLabels } from "./labels";
import { SchedulingLabelError, validateSchedulingLabels } from "./validate";

/** Label key → value; several values for one key are listed (`zone: ["a", "b"]`). */
export type LabelSelector = Record<string, string | string[]>;

export interface SchedulingSpec {
  /** One instance on every active host that passes the hard rules. */
  global?: boolean;
  /** host_label: the host must have all of these. */
  hostLabels?: LabelSelector;
  /** host_label_ne: the host must have none of these. */
  hostLabelsNot?: LabelSelector;
  /** host_label_soft: prefer hosts with these. */
  hostLabelsPreferred?: LabelSelector;
  /** host_label_soft_ne: prefer hosts without these. */
  hostLabelsAvoided?: LabelSelector;
  containerLabels?: LabelSelector;
  containerLabelsNot?: LabelSelector;
  containerLabelsPreferred?: LabelSelector;
  containerLabelsAvoided?: LabelSelector;
  /** container: container names that must be on the host. */
  containers?: string[];
  containersNot?: string[];
  containersPreferred?: string[];
  containersAvoided?: string[];
}

type RuleField = Exclude<keyof SchedulingSpec, "global">;

/** Typed field ↔ Rancher variant, one row per affinity label. */
export const SPEC_FIELDS: ReadonlyArray<{ field: RuleField; variant: AffinityVariant }> = [
  { field: "hostLabels", variant: { kind: "host_label", soft: false, negate: false } },
  { field: "hostLabelsNot", variant: { kind: "host_label", soft: false, negate: true } },
  { field: "hostLabelsPreferred", variant: { kind: "host_label", soft: true, negate: false } },
  { field: "hostLabelsAvoided", variant: { kind: "host_label", soft: true, negate: true } },
  { field: "containerLabels", variant: { kind: "container_label", soft: false, negate: false } },
  { field: "containerLabelsNot", variant: { kind: "container_label", soft: false, negate: true } },
  { field: "containerLabelsPreferred", variant: { kind: "container_label", soft: true, negate: false } },
  { field: "containerLabelsAvoided", variant: { kind: "container_label", soft: true, negate: true } },
  { field: "containers", variant: { kind: "container", soft: false, negate: false } },
  { field: "containersNot", variant: { kind: "container", soft: false, negate: true } },
  { field: "containersPreferred", variant: { kind: "container", soft: true, negate: false } },
  { field: "containersAvoided", variant: { kind: "container", soft: true, negate: true } },
];

// An array, not a Set: Pulumi's closure serializer turns a module-level Set or Map into a plain object.
const knownFields: readonly string[] = ["global", ...SPEC_FIELDS.map((f) => f.field)];

/** Rancher labels equivalent to `spec` (only the keys it sets). */
export function schedulingSpecToLabels(spec: SchedulingSpec): Record<string, string> {
  const labels: Record<string, string> = {};
  if (spec.global !== undefined) labels[GLOBAL_LABEL] = spec.global ? "true" : "false";
  for (const { field, variant } of SPEC_FIELDS) {
    const items = specItems(spec[field]);
    if (items.length > 0) labels[affinityLabelKey(variant)] = items.join(",");
  }
  return labels;
}

/** A service's labels with the typed rules added; a rule given both ways keeps both lists. */
export function withSchedulingSpec(labels: Record<string, string>, spec: SchedulingSpec): Record<string, string> {
  const merged = { ...labels };
  for (const [key, value] of Object.entries(schedulingSpecToLabels(spec))) {
    merged[key] = key !== GLOBAL_LABEL && merged[key] ? `${merged[key]},${value}` : value;
  }
  return merged;
}

/** The typed form of a service's scheduling labels (for showing them back to a user). */
export function schedulingSpecFromLabels(labels: Record<string, string>): SchedulingSpec {
  const parsed = parseSchedulingLabels(labels);
  const spec: SchedulingSpec = {};
  if (parsed.global) spec.global = true;
  for (const rule of parsed.rules) {
    const field = SPEC_FIELDS.find((f) => f.variant.kind === rule.kind && f.variant.soft === rule.soft && f.variant.negate === rule.negate)!.field;
    if (rule.kind === "container") {
      (spec as Record<string, unknown>)[field] = rule.items.map((i) => i.value);
      continue;
    }
    const selector: LabelSelector = {};
    for (const item of rule.items) {
      const seen = selector[item.key!];
      selector[item.key!] = seen === undefined ? item.value : [...(Array.isArray(seen) ? seen : [seen]), item.value];
    }
    (spec as Record<string, unknown>)[field] = selector;
  }
  return spec;
}

/** Problems with a typed spec, with fields named the typed way (`scheduling.hostLabels["zone"]`). */
export function validateSchedulingSpec(spec: SchedulingSpec, fieldPrefix = "scheduling"): SchedulingLabelError[] {
  const errors: SchedulingLabelError[] = [];
  const report = (field: string, labelKey: string, message: string) => errors.push({ field, labelKey, message: `${field}: ${message}` });
  for (const key of Object.keys(spec)) {
    if (!knownFields.includes(key)) report(`${fieldPrefix}.${key}`, "", `unknown field; expected one of ${knownFields.join(", ")}`);
  }
  if (spec.global !== undefined && typeof spec.global !== "boolean") report(`${fieldPrefix}.global`, GLOBAL_LABEL, "expected a boolean");
  for (const { field, variant } of SPEC_FIELDS) {
    const value = spec[field];
    if (value === undefined) continue;
    const path = `${fieldPrefix}.${field}`;
    const labelKey = affinityLabelKey(variant);
    if (variant.kind === "container") {
      if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) report(path, labelKey, "expected a list of container names");
      else value.forEach((name, i) => name.includes(",") && report(`${path}[${i}]`, labelKey, `container name ${JSON.stringify(name)} contains ","`));
      continue;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      report(path, labelKey, 'expected an object of label values, e.g. { zone: "a" }');
      continue;
    }
    for (const [k, v] of Object.entries(value)) {
      const at = `${path}[${JSON.stringify(k)}]`;
      const values = Array.isArray(v) ? v : [v];
      if (k.trim() === "" || /[,=]/.test(k)) report(at, labelKey, `label key ${JSON.stringify(k)} must be non-empty and contain no "," or "="`);
      if (values.length === 0) report(at, labelKey, "expected at least one value");
      for (const one of values) {
        if (typeof one !== "string" || one.trim() === "") report(at, labelKey, "expected a non-empty string value");
        else if (one.includes(",")) report(at, labelKey, `value ${JSON.stringify(one)} contains ","`);
      }
    }
  }
  if (errors.length > 0) return errors;
  // The rest (macros, contradictions) is the label validator's job; name the typed field.
  const fieldOf = new Map<string, string>(SPEC_FIELDS.map((f) => [affinityLabelKey(f.variant), `${fieldPrefix}.${f.field}`]));
  return validateSchedulingLabels(schedulingSpecToLabels(spec)).map((e) => {
    const field = fieldOf.get(e.labelKey) ?? `${fieldPrefix}.global`;
    return { field, labelKey: e.labelKey, message: `${field}: ${e.message.slice(e.labelKey.length + 2)}` };
  });
}

function specItems(value: LabelSelector | string[] | undefined): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  return Object.entries(value).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((one) => `${k}=${one}`));
}
