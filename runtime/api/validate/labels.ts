/**
 * Label maps, and Rancher's scheduling labels inside them. The scheduling syntax is the
 * scheduler's to define: its validator is used as is, so the API and the scheduler can
 * never disagree about what a rule means.
 */
import { validateSchedulingLabels, validateSchedulingSpec, withSchedulingSpec } from "../../scheduler";
import type { SchedulingSpec } from "../../scheduler";
import { Problems } from "./problems";
import { isPlainObject } from "./reader";

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
