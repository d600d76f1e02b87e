/**
 * Reading Rancher's scheduling labels into rules. The value of an affinity label is a
 * comma-separated list: `k=v,k2=v2` for host_label and container_label, container names
 * for container. Parsing is lenient (it skips what it cannot read); `validate.ts` is where
 * malformed labels are reported.
 */
import { AFFINITY_VARIANTS, AffinityVariant, affinityLabelKey, affinityVariantOf, isGlobalLabel } from "./label-keys";

/** One entry of a rule's list: a label pair, or (for `container`) a container name in `value`. */
export interface RuleItem {
  /** As written, for messages. */
  text: string;
  key?: string;
  value: string;
}

export interface AffinityRule extends AffinityVariant {
  /** The canonical label key, e.g. `io.rancher.scheduler.affinity:host_label_ne`. */
  labelKey: string;
  items: RuleItem[];
}

export interface SchedulingLabels {
  global: boolean;
  /** In AFFINITY_VARIANTS order, whatever order the labels came in. */
  rules: AffinityRule[];
}

/** The trimmed entries of a comma-separated rule value, empty ones included (validation flags them). */
export function splitRuleValue(value: string): string[] {
  return value.split(",").map((s) => s.trim());
}

/** `k=v` split at the first `=`; undefined when there is none. */
export function splitPair(text: string): { key: string; value: string } | undefined {
  const eq = text.indexOf("=");
  if (eq < 0) return undefined;
  return { key: text.slice(0, eq).trim(), value: text.slice(eq + 1).trim() };
}

export function parseRuleItems(variant: AffinityVariant, value: string): RuleItem[] {
  const items: RuleItem[] = [];
  for (const text of splitRuleValue(value)) {
    if (text === "") continue;
    if (variant.kind === "container") {
      items.push({ text, value: text });
      continue;
    }
    const pair = splitPair(text);
    if (pair && pair.key !== "") items.push({ text, key: pair.key, value: pair.value });
  }
  return items;
}

export function isGlobalValue(value: string | undefined): boolean {
  return value !== undefined && value.trim().toLowerCase() === "true";
}

export function parseSchedulingLabels(labels: Record<string, string>): SchedulingLabels {
  let global = false;
  const itemsByKey = new Map<string, RuleItem[]>();
  for (const [key, value] of Object.entries(labels)) {
    if (isGlobalLabel(key)) {
      global = global || isGlobalValue(value);
      continue;
    }
    const variant = affinityVariantOf(key);
    if (!variant || typeof value !== "string") continue;
    const canonical = affinityLabelKey(variant);
    const items = parseRuleItems(variant, value);
    itemsByKey.set(canonical, [...(itemsByKey.get(canonical) ?? []), ...items]);
  }
  const rules: AffinityRule[] = [];
  for (const variant of AFFINITY_VARIANTS) {
    const labelKey = affinityLabelKey(variant);
    const items = itemsByKey.get(labelKey);
    if (items && items.length > 0) rules.push({ ...variant, labelKey, items });
  }
  return { global, rules };
}
