/** What every part of the reader needs: the file being read, and how to warn or fail at a place. */
import type { ComposeWarning } from "./types";
import { composeError, pathText, type YamlPath, type YamlSource } from "./yaml-source";

export class ReadContext {
  constructor(
    readonly src: YamlSource,
    readonly field: string,
    readonly warnings: ComposeWarning[],
    /** An env_file's text by its path relative to the compose file (undefined: not found). */
    readonly envFile: (path: string) => string | undefined = () => undefined,
  ) {}

  warn(path: YamlPath, message: string): void {
    const place = this.src.place(path);
    this.warnings.push({ path: pathText(path), file: place.file, line: place.line, column: place.column, message });
  }

  fail(path: YamlPath, message: string): never {
    throw composeError(this.src.place(path), path, message, this.field);
  }

  /** A mapping, or a failure naming what was expected. */
  map(value: unknown, path: YamlPath, expected = "a mapping"): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) this.fail(path, `expected ${expected}, got ${describe(value)}`);
    return value as Record<string, unknown>;
  }

  string(value: unknown, path: YamlPath, expected = "a string"): string {
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    if (typeof value !== "string") this.fail(path, `expected ${expected}, got ${describe(value)}`);
    return value;
  }

  /** A string or a list of strings (Compose accepts both for many keys). */
  stringList(value: unknown, path: YamlPath): string[] {
    if (Array.isArray(value)) return value.map((v, i) => this.string(v, [...path, i]));
    return [this.string(value, path, "a string or a list of strings")];
  }

  boolean(value: unknown, path: YamlPath): boolean {
    if (typeof value === "boolean") return value;
    if (value === "true" || value === "false") return value === "true";
    this.fail(path, `expected true or false, got ${describe(value)}`);
  }

  integer(value: unknown, path: YamlPath, min: number, max: number): number {
    const n = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) this.fail(path, `expected an integer from ${min} to ${max}, got ${describe(value)}`);
    return n;
  }
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
