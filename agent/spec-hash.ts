import { createHash } from "crypto";
import type { InstanceSpec } from "../runtime/protocol/model";

/**
 * JSON with object keys sorted at every level and `undefined` members dropped, so two
 * equal specs give the same text whatever order the server serialised their keys in.
 * Array order is kept: it is meaningful (command, ports).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const entries = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(",")}}`;
}

/** The value of the spec-hash label: a different hash means the container must be recreated. */
export function specHash(spec: InstanceSpec): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex");
}
