/**
 * Collects every problem with a request body, then fails with the first one as a
 * DroverError (its code decides the status) and lists all of them in `detail.errors`,
 * so a client can fix a body in one round trip.
 */
import { DroverError } from "../../protocol/errors";

export type ProblemCode = "InvalidField" | "UnknownField" | "MissingField" | "Conflict";

export interface Problem {
  code: ProblemCode;
  field: string;
  message: string;
}

export class Problems {
  readonly list: Problem[] = [];

  add(code: ProblemCode, field: string, message: string): void {
    this.list.push({ code, field, message: `${field}: ${message}` });
  }

  /** `field: expected <expected>, got <value>`. */
  invalid(field: string, expected: string, got?: unknown): void {
    this.add("InvalidField", field, got === undefined ? `expected ${expected}` : `expected ${expected}, got ${describe(got)}`);
  }

  missing(field: string, expected: string): void {
    this.add("MissingField", field, `required: expected ${expected}`);
  }

  unknown(field: string, allowed: readonly string[], suggestion?: string): void {
    const hint = suggestion ? ` (did you mean ${suggestion}?)` : "";
    const expected = allowed.length ? `expected one of ${allowed.join(", ")}` : "this call takes no fields";
    this.add("UnknownField", field, `unknown field${hint}; ${expected}`);
  }

  get ok(): boolean {
    return this.list.length === 0;
  }

  throwIfAny(): void {
    if (this.ok) return;
    const first = this.list[0];
    throw new DroverError(first.code, first.message, {
      field: first.field,
      detail: this.list.length > 1 ? { errors: this.list } : undefined,
    });
  }
}

/** A short rendering of a bad value for messages (never the whole of a large one). */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  // JSON like 1e400 parses to Infinity, which JSON.stringify would show as null.
  if (typeof value === "number" && !Number.isFinite(value)) return "a number out of range (beyond ±1.8e308)";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
