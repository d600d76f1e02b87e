/**
 * Unknown inputs are refused, not dropped. In a JavaScript program (or TypeScript cast to
 * `any`) a misspelt field (`sclae: 3`) would otherwise fall back to its default on the
 * server and silently undo what the user meant; the API refuses unknown fields, and so does
 * check(): `sclae: unknown field; did you mean scale?`.
 *
 * Each resource's accepted inputs are its Args keys (listed once, checked against the Args
 * interface at compile time by `keysOf`), plus what drover itself adds: the computed outputs
 * it declares, and the SDK's `__provider`.
 */
import { closest } from "../runtime/protocol/suggest";
import type { CheckFailure } from "./check";

/** What the SDK adds to every dynamic resource's inputs: the serialized provider. */
export const SDK_INPUTS = ["__provider"] as const;

/**
 * `keysOf<Args>()([...])` returns the list as given, and compiles only when it names every
 * key of Args and nothing else: a field added to an Args interface cannot be forgotten here.
 */
export function keysOf<T>() {
  return <const L extends readonly (keyof T & string)[]>(
    list: L & ([Exclude<keyof T, L[number]>] extends [never] ? unknown : { missingKeys: Exclude<keyof T, L[number]> }),
  ): L => list;
}

/** The one message for an unknown field, with a suggestion when one is close enough. */
export function unknownFieldReason(field: string, key: string, candidates: readonly string[]): string {
  const guess = closest(key, candidates);
  return guess !== undefined
    ? `${field}: unknown field; did you mean ${guess}?`
    : `${field}: unknown field; expected one of ${candidates.join(", ")}`;
}

const fieldPath = (parent: string, key: string) =>
  parent === "" ? key : /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;

/**
 * One failure per key of `inputs` that is neither in `fields` (what a user may write, and
 * what suggestions are drawn from) nor in `alsoAccepted` (what drover or the SDK add).
 */
export function unknownFieldFailures(
  inputs: unknown, fields: readonly string[], alsoAccepted: readonly string[] = [], path = "",
): CheckFailure[] {
  if (typeof inputs !== "object" || inputs === null || Array.isArray(inputs)) return [];
  const out: CheckFailure[] = [];
  for (const key of Object.keys(inputs)) {
    if (fields.includes(key) || alsoAccepted.includes(key)) continue;
    const field = fieldPath(path, key);
    out.push({ property: field, reason: unknownFieldReason(field, key, fields) });
  }
  return out;
}

/** The same for each object of a list (`ports[1].protcol`); other items are the validators' to judge. */
export function unknownFieldFailuresInList(list: unknown, fields: readonly string[], path: string): CheckFailure[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item, i) => unknownFieldFailures(item, fields, [], `${path}[${i}]`));
}

/**
 * The failures of the API's validators minus those on a field already reported unknown
 * (the validator would say the same thing again, without the suggestion).
 */
export function withoutDuplicates(unknown: CheckFailure[], others: CheckFailure[]): CheckFailure[] {
  const seen = new Set(unknown.map((f) => f.property));
  return [...unknown, ...others.filter((f) => !seen.has(f.property))];
}
