/**
 * Label maps, and Rancher's scheduling labels inside them. The scheduling syntax is the
 * scheduler's to define: its validator is used as is, so the API and the scheduler can
 * never disagree about what a rule means.
 */
import { validateSchedulingLabels, validateSchedulingSpec, withSchedulingSpec } from "../../scheduler";
import type { SchedulingSpec } from "../../scheduler";
import { Problems } from "./problems";
import { isPlainObject, type ObjectReader } from "./reader";
import { LABEL_KEY, LABEL_VALUE } from "./rules";

export function checkSchedulingLabels(p: Problems, labels: Record<string, string>, path = "labels"): void {
  for (const e of validateSchedulingLabels(labels, path)) {
    // The scheduler's message starts with the label key; name the API field instead.
    const text = e.message.startsWith(`${e.labelKey}: `) ? e.message.slice(e.labelKey.length + 2) : e.message;
    p.add("InvalidField", e.field, text);
  }
}

/** The typed `scheduling` form merged into `labels`; undefined (with problems) when invalid. */
export function mergeSchedulingSpec(p: Problems, labels: Record<string, string>, value: unknown, path = "scheduling"): Record<string, string> | undefined {
  if (!isPlainObject(value)) {
    p.invalid(path, "an object such as {\"hostLabels\": {\"zone\": \"a\"}}", value);
    return undefined;
  }
  const errors = validateSchedulingSpec(value as SchedulingSpec, path);
  // The scheduler's messages already start with the field; keep them as they are.
  for (const e of errors) p.list.push({ code: e.message.includes("unknown field") ? "UnknownField" : "InvalidField", field: e.field, message: e.message });
  return errors.length ? undefined : withSchedulingSpec(labels, value as SchedulingSpec);
}

/**
 * `labels` and the typed `scheduling` rules of a body (services and load balancers): the
 * labels given (or `baseLabels` when only scheduling is), with the rules merged in and
 * checked. Undefined when the body has neither.
 */
export function readSchedulingLabels(p: Problems, r: ObjectReader, baseLabels: Record<string, string>): Record<string, string> | undefined {
  let labels = r.stringMap("labels", 256, LABEL_KEY, LABEL_VALUE);
  if (r.has("scheduling")) {
    const merged = mergeSchedulingSpec(p, labels ?? baseLabels, r.raw("scheduling"));
    if (merged !== undefined) labels = merged;
  }
  if (labels !== undefined) checkSchedulingLabels(p, labels);
  return labels;
}
