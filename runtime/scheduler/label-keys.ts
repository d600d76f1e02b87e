/** Rancher's scheduling label keys, and the three dimensions they vary on. */

export const SCHEDULER_LABEL_PREFIX = "io.rancher.scheduler.";
export const GLOBAL_LABEL = "io.rancher.scheduler.global";
export const AFFINITY_LABEL_PREFIX = "io.rancher.scheduler.affinity:";

/** What an affinity rule looks at: host labels, labels of containers on the host, or their names. */
export type AffinityKind = "host_label" | "container_label" | "container";

export interface AffinityVariant {
  kind: AffinityKind;
  /** `_soft`: preferred, never blocks. */
  soft: boolean;
  /** `_ne`: must (or should) match none of the items; plain: must match all. */
  negate: boolean;
}

export const AFFINITY_KINDS: readonly AffinityKind[] = ["host_label", "container_label", "container"];

/** The suffix Rancher appends for a variant: "", "_soft", "_ne", "_soft_ne". */
export function variantSuffix(v: { soft: boolean; negate: boolean }): string {
  return (v.soft ? "_soft" : "") + (v.negate ? "_ne" : "");
}

/** The rule's name as it appears in reasons, e.g. `container_label_soft_ne`. */
export function ruleName(v: AffinityVariant): string {
  return v.kind + variantSuffix(v);
}

export function affinityLabelKey(v: AffinityVariant): string {
  return AFFINITY_LABEL_PREFIX + ruleName(v);
}

/** All 12 affinity variants, in a fixed order (hard before soft) so evaluation is deterministic. */
export const AFFINITY_VARIANTS: readonly AffinityVariant[] = [false, true].flatMap((soft) =>
  AFFINITY_KINDS.flatMap((kind) => [false, true].map((negate) => ({ kind, soft, negate }))),
);

// A plain object, not a Map: Pulumi's closure serializer turns a module-level Map into a plain object.
const variantByKey: Readonly<Record<string, AffinityVariant>> = Object.fromEntries(AFFINITY_VARIANTS.map((v) => [affinityLabelKey(v), v]));

/** Rancher lowercased label keys before matching them, so `IO.Rancher...` works too. */
export function affinityVariantOf(labelKey: string): AffinityVariant | undefined {
  const key = labelKey.toLowerCase();
  return Object.prototype.hasOwnProperty.call(variantByKey, key) ? variantByKey[key] : undefined;
}

export function isSchedulerLabel(labelKey: string): boolean {
  return labelKey.toLowerCase().startsWith(SCHEDULER_LABEL_PREFIX);
}

export function isGlobalLabel(labelKey: string): boolean {
  return labelKey.toLowerCase() === GLOBAL_LABEL;
}

/** Every key the scheduler accepts under `io.rancher.scheduler.`. */
export const KNOWN_SCHEDULER_LABELS: readonly string[] = [...AFFINITY_VARIANTS.map(affinityLabelKey), GLOBAL_LABEL];
