/**
 * One compose file parsed with `yaml`, keeping where every value came from so an error or a
 * warning can say `docker-compose.yml:12:7`. Strict where Docker Compose is lax about things
 * that hide mistakes: tabs as indentation and duplicate keys are errors (the second `image:`
 * of a service silently winning is how a stack ends up running the wrong thing). Anchors,
 * aliases and YAML 1.1 merge keys (`<<: *defaults`) are resolved, as Compose resolves them.
 */
import { Document, LineCounter, isNode, isPair, isScalar, parseDocument } from "yaml";
import { DroverError } from "../protocol/errors";

/** A compose file larger than this is refused before parsing (Rancher's own files are a few KB). */
export const MAX_COMPOSE_BYTES = 1024 * 1024;
/** Aliases expanded per file: a "billion laughs" file is refused, not expanded. */
const MAX_ALIASES = 1000;

export type YamlPath = (string | number)[];

export interface Place {
  file: string;
  line: number;
  column: number;
}

export interface YamlSource {
  file: string;
  /** The document as plain JavaScript (anchors and merge keys resolved). */
  value: unknown;
  /** Where the value at `path` starts, or the nearest parent that exists. */
  place(path: YamlPath): Place;
}

/** `services.web.ports[0]`, the way warnings and errors name a place. */
export function pathText(path: YamlPath): string {
  return path.reduce<string>((out, part) =>
    typeof part === "number" ? `${out}[${part}]` : out === "" ? String(part) : /^[A-Za-z0-9_-]+$/.test(part) ? `${out}.${part}` : `${out}[${JSON.stringify(part)}]`, "");
}

/** The error every problem of a compose file becomes: `file:line:column: path: what was expected`. */
export function composeError(place: Place, path: YamlPath | string, message: string, field: string): DroverError {
  const at = typeof path === "string" ? path : pathText(path);
  return new DroverError("InvalidField", `${place.file}:${place.line}:${place.column}: ${at ? `${at}: ` : ""}${message}`, {
    field,
    detail: { file: place.file, line: place.line, column: place.column, ...(at ? { path: at } : {}) },
  });
}

/**
 * Parses `text`; `field` names the input that carried it (`dockerCompose`, `rancherCompose`)
 * for the error's fieldName. Throws a DroverError naming file, line and column.
 */
export function parseYamlSource(text: string, file: string, field: string): YamlSource {
  const size = Buffer.byteLength(text, "utf8");
  if (size > MAX_COMPOSE_BYTES) {
    throw composeError({ file, line: 1, column: 1 }, "", `the file is ${size} bytes; compose files of at most ${MAX_COMPOSE_BYTES} bytes (1 MiB) are read`, field);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, merge: true, lineCounter: lines, prettyErrors: false, strict: true });
  const at = (offset: number): Place => {
    const pos = lines.linePos(offset);
    return { file, line: pos.line, column: pos.col };
  };
  const first = doc.errors[0];
  if (first) throw composeError(at(first.pos[0]), "", describeYamlError(first.code, first.message), field);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    throw composeError({ file, line: 1, column: 1 }, "", `cannot be read: ${(err as Error).message}`, field);
  }
  return { file, value, place: (path) => placeOf(doc, path, at, file) };
}

function describeYamlError(code: string, message: string): string {
  if (code === "TAB_AS_INDENT") return "a tab in the indentation: YAML indents with spaces only";
  if (code === "DUPLICATE_KEY") return "a key given twice in the same mapping (which one should win?)";
  return message;
}

function placeOf(doc: Document, path: YamlPath, at: (offset: number) => Place, file: string): Place {
  // A key's place is where the key is written (`ports:`), an item's where the item starts.
  // Merge keys and aliases mean a resolved path may not exist in the source tree: fall back
  // to the deepest parent that does.
  for (let n = path.length; n > 0; n--) {
    const parent = doc.getIn(path.slice(0, n - 1), true) as { items?: unknown[] } | undefined;
    const last = path[n - 1];
    const items = isNode(parent) || parent === doc.contents ? (parent as { items?: unknown[] }).items : undefined;
    if (!items) continue;
    if (typeof last === "number") {
      const item = items[last];
      if (isNode(item) && item.range) return at(item.range[0]);
      continue;
    }
    const pair = items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === last);
    if (isPair(pair) && isScalar(pair.key) && pair.key.range) return at(pair.key.range[0]);
  }
  return { file, line: 1, column: 1 };
}
