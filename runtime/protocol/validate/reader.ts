/**
 * Reads typed fields out of an untrusted JSON object, recording problems (with the field's
 * path, e.g. `ports[1].protocol`) instead of throwing, and flagging fields it was not told about.
 */
import { Problems } from "./problems";
import { closest } from "../../protocol/suggest";

export function fieldPath(parent: string, key: string): string {
  return parent === "" ? key : `${parent}.${key}`;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** Map entries: `env.FOO`, or `labels["io.rancher.x"]` when the key is not identifier-like. */
export function mapKeyPath(parent: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface StringRule {
  /** What a valid value looks like, for messages. */
  expected: string;
  pattern?: RegExp;
  maxLength?: number;
  /** Empty strings are rejected unless this is 0. */
  minLength?: number;
  oneOf?: readonly string[];
}

export function checkString(p: Problems, value: unknown, path: string, rule: StringRule): string | undefined {
  const min = rule.minLength ?? 1;
  const ok = typeof value === "string" && value.length >= min && value.length <= (rule.maxLength ?? Infinity) &&
    (rule.pattern === undefined || rule.pattern.test(value)) && (rule.oneOf === undefined || rule.oneOf.includes(value));
  if (!ok) {
    p.invalid(path, rule.expected, value);
    return undefined;
  }
  return value as string;
}

export function checkInteger(p: Problems, value: unknown, path: string, min: number, max: number): number | undefined {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    p.invalid(path, `an integer from ${min} to ${max}`, value);
    return undefined;
  }
  return value;
}

export class ObjectReader {
  readonly valid: boolean;
  private readonly obj: Record<string, unknown>;

  /** `path` "" is the request body itself. */
  constructor(readonly problems: Problems, value: unknown, readonly path: string, allowed: readonly string[]) {
    this.valid = isPlainObject(value);
    this.obj = this.valid ? (value as Record<string, unknown>) : {};
    if (!this.valid) {
      problems.invalid(path === "" ? "body" : path, "a JSON object", value);
      return;
    }
    for (const key of Object.keys(this.obj)) {
      if (!allowed.includes(key)) problems.unknown(fieldPath(path, key), allowed, closest(key, allowed));
    }
  }

  /** Present and not null (null means "not given", as JSON clients often send it). */
  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  raw(key: string): unknown {
    return this.has(key) ? this.obj[key] : undefined;
  }

  at(key: string): string {
    return fieldPath(this.path, key);
  }

  private present(key: string, required: boolean, expected: string): boolean {
    if (this.has(key)) return true;
    if (required && this.valid) this.problems.missing(this.at(key), expected);
    return false;
  }

  string(key: string, rule: StringRule & { required?: boolean }): string | undefined {
    if (!this.present(key, rule.required ?? false, rule.expected)) return undefined;
    return checkString(this.problems, this.obj[key], this.at(key), rule);
  }

  integer(key: string, min: number, max: number, required = false): number | undefined {
    if (!this.present(key, required, `an integer from ${min} to ${max}`)) return undefined;
    return checkInteger(this.problems, this.obj[key], this.at(key), min, max);
  }

  boolean(key: string, required = false): boolean | undefined {
    if (!this.present(key, required, "true or false")) return undefined;
    const value = this.obj[key];
    if (typeof value !== "boolean") {
      this.problems.invalid(this.at(key), "true or false", value);
      return undefined;
    }
    return value;
  }

  /** A list of strings (command, entrypoint). */
  stringList(key: string, maxItems: number, item: StringRule): string[] | undefined {
    if (!this.present(key, false, "a list of strings")) return undefined;
    const value = this.obj[key];
    if (!Array.isArray(value) || value.length > maxItems) {
      this.problems.invalid(this.at(key), `a list of at most ${maxItems} strings`, value);
      return undefined;
    }
    const before = this.problems.list.length;
    const out = value.map((v, i) => checkString(this.problems, v, indexPath(this.at(key), i), item) ?? "");
    return this.problems.list.length === before ? out : undefined;
  }

  /** A string → string map (env, labels, links), each key and value checked. */
  stringMap(key: string, maxEntries: number, keyRule: StringRule, valueRule: StringRule): Record<string, string> | undefined {
    if (!this.present(key, false, "an object of strings")) return undefined;
    const value = this.obj[key];
    if (!isPlainObject(value) || Object.keys(value).length > maxEntries) {
      this.problems.invalid(this.at(key), `an object of at most ${maxEntries} string values`, value);
      return undefined;
    }
    const before = this.problems.list.length;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      const path = mapKeyPath(this.at(key), k);
      if (checkString(new Problems(), k, path, keyRule) === undefined) {
        this.problems.invalid(path, `a key that is ${keyRule.expected}`, k);
        continue;
      }
      const checked = checkString(this.problems, v, path, valueRule);
      if (checked !== undefined) out[k] = checked;
    }
    return this.problems.list.length === before ? out : undefined;
  }
}
