/**
 * Rancher-style collection queries: `name=`, `name_ne=`, `name_like=` (`%` any run, `_` one
 * character, as SQL LIKE), `name_notlike=`, the same for each field a resource lists,
 * `labels.<key>=<value>`, `sort=` (creation order by default) and `order=`, and `limit=`
 * (default 100, max 1000) with an opaque `marker` for the next page. Unknown parameters
 * are rejected (a typo in a filter would otherwise silently return everything).
 */
import { DroverError } from "../protocol/errors";

export type Modifier = "eq" | "ne" | "like" | "notlike";
const MODIFIERS: Modifier[] = ["ne", "like", "notlike"];

export interface FilterSpec<T> {
  /** Filterable fields → the record's value as a string. */
  fields: Record<string, (record: T) => string | undefined>;
  /** Where `labels.<k>` filters look, for resources that have labels. */
  labels?: (record: T) => Record<string, string>;
}

export interface Condition {
  field: string;
  modifier: Modifier;
  values: string[];
}

export interface ListQuery {
  conditions: Condition[];
  labels: Record<string, string[]>;
  limit: number;
  marker?: string;
  sort: string;
  order: "asc" | "desc";
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
/** Query parameters that control paging and order rather than filter. */
const RESERVED = new Set(["limit", "marker", "sort", "order"]);

export function parseListQuery<T>(query: URLSearchParams, spec: FilterSpec<T>): ListQuery {
  const byKey = new Map<string, Condition>();
  const labels: Record<string, string[]> = {};
  for (const [param, value] of query) {
    if (RESERVED.has(param)) continue;
    if (param.startsWith("labels.") && spec.labels && param.length > "labels.".length) {
      (labels[param.slice("labels.".length)] ??= []).push(value);
      continue;
    }
    const { field, modifier } = splitParam(param, spec);
    const key = `${field}_${modifier}`;
    const cond = byKey.get(key) ?? { field, modifier, values: [] };
    cond.values.push(value);
    byKey.set(key, cond);
  }
  const sortable = ["id", ...Object.keys(spec.fields).filter((f) => f !== "id")];
  // Creation order by default (ids are random, so id order would look arbitrary).
  const sort = query.get("sort") ?? ("createdAt" in spec.fields ? "createdAt" : "id");
  if (!sortable.includes(sort)) throw invalid("sort", `expected one of ${sortable.join(", ")}`, sort);
  const order = query.get("order") ?? "asc";
  if (order !== "asc" && order !== "desc") throw invalid("order", "expected asc or desc", order);
  return { conditions: [...byKey.values()], labels, limit: parseLimit(query.get("limit")), marker: query.get("marker") ?? undefined, sort, order };
}

function splitParam<T>(param: string, spec: FilterSpec<T>): { field: string; modifier: Modifier } {
  if (param in spec.fields) return { field: param, modifier: "eq" };
  for (const m of MODIFIERS) {
    const field = param.slice(0, -(m.length + 1));
    if (param.endsWith(`_${m}`) && field in spec.fields) return { field, modifier: m };
  }
  const known = [...Object.keys(spec.fields), ...(spec.labels ? ["labels.<key>"] : []), ...RESERVED];
  throw new DroverError("UnknownField", `unknown query parameter ${param}; filters: ${known.join(", ")} (fields take _ne, _like, _notlike)`, { field: param });
}

function parseLimit(text: string | null): number {
  if (text === null) return DEFAULT_LIMIT;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_LIMIT) throw invalid("limit", `expected an integer from 1 to ${MAX_LIMIT}`, text);
  return n;
}

function invalid(field: string, expected: string, got: string): DroverError {
  return new DroverError("InvalidField", `${field}: ${expected}, got ${JSON.stringify(got)}`, { field });
}

/** SQL LIKE → RegExp: `%` any run of characters, `_` exactly one, everything else literal. */
export function likePattern(pattern: string): RegExp {
  const body = [...pattern].map((c) => (c === "%" ? ".*" : c === "_" ? "." : c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))).join("");
  return new RegExp(`^${body}$`, "s");
}

function matches(cond: Condition, value: string | undefined): boolean {
  const v = value ?? "";
  switch (cond.modifier) {
    case "eq": return cond.values.includes(v);
    case "ne": return !cond.values.includes(v);
    case "like": return cond.values.some((p) => likePattern(p).test(v));
    case "notlike": return !cond.values.some((p) => likePattern(p).test(v));
  }
}

export interface Page<T> {
  data: T[];
  total: number;
  /** Marker of the page after this one, when there is one. */
  next?: string;
}

export function applyListQuery<T extends { id: string }>(records: T[], q: ListQuery, spec: FilterSpec<T>): Page<T> {
  const sortValue = (r: T) => (q.sort === "id" ? r.id : spec.fields[q.sort](r) ?? "");
  const filtered = records.filter((r) =>
    q.conditions.every((c) => matches(c, spec.fields[c.field](r))) &&
    Object.entries(q.labels).every(([k, values]) => values.includes(spec.labels!(r)[k] ?? "\u0000absent")),
  );
  const dir = q.order === "asc" ? 1 : -1;
  const cmp = (a: [string, string], b: [string, string]) =>
    dir * (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
  const keyed = filtered.map((r) => ({ r, key: [sortValue(r), r.id] as [string, string] })).sort((a, b) => cmp(a.key, b.key));
  const after = q.marker === undefined ? undefined : decodeMarker(q.marker);
  const rest = after ? keyed.filter((k) => cmp(k.key, after) > 0) : keyed;
  const page = rest.slice(0, q.limit);
  const more = rest.length > q.limit;
  return {
    data: page.map((k) => k.r),
    total: filtered.length,
    next: more ? encodeMarker(page[page.length - 1].key) : undefined,
  };
}

/** Markers are opaque to clients: the (sort value, id) of the last item seen. */
function encodeMarker(key: [string, string]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

function decodeMarker(marker: string): [string, string] {
  try {
    const key = JSON.parse(Buffer.from(marker, "base64url").toString("utf8"));
    if (Array.isArray(key) && key.length === 2 && key.every((k) => typeof k === "string")) return key as [string, string];
  } catch {
    // fall through
  }
  throw new DroverError("InvalidField", "marker: expected a marker from a previous page's pagination.next", { field: "marker" });
}
