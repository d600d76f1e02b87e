/**
 * A Rancher collection: `{type: "collection", resourceType, links, data, pagination,
 * filters, sortLinks, createTypes}`. `filters` lists every filterable field (null when the
 * request did not use it), so a client can discover what it may filter on.
 */
import type { FilterSpec, ListQuery, Page } from "../filters";

export interface CollectionJson {
  type: "collection";
  resourceType: string;
  links: Record<string, string>;
  createTypes: Record<string, string>;
  actions: Record<string, string>;
  data: unknown[];
  pagination: { limit: number; total: number; marker?: string; next?: string; partial: boolean };
  filters: Record<string, Array<{ modifier: string; value: string }> | null>;
  sortLinks: Record<string, string>;
  sort: { name: string; order: string };
}

export function presentCollection<T>(opts: {
  resourceType: string;
  selfUrl: string;
  query: ListQuery;
  spec: FilterSpec<T>;
  page: Page<unknown>;
  /** Type → URL to POST to, for collections that take creates. */
  createTypes?: Record<string, string>;
}): CollectionJson {
  const { selfUrl, query, spec, page } = opts;
  const withParams = (params: Record<string, string | undefined>) => {
    const url = new URL(selfUrl);
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined) url.searchParams.delete(k);
      else url.searchParams.set(k, v);
    }
    return url.toString();
  };
  const filters: CollectionJson["filters"] = {};
  for (const field of Object.keys(spec.fields)) filters[field] = null;
  for (const c of query.conditions) {
    filters[c.field] = [...(filters[c.field] ?? []), ...c.values.map((value) => ({ modifier: c.modifier, value }))];
  }
  for (const [key, values] of Object.entries(query.labels)) {
    filters[`labels.${key}`] = values.map((value) => ({ modifier: "eq", value }));
  }
  const sortLinks: Record<string, string> = {};
  for (const field of ["id", ...Object.keys(spec.fields).filter((f) => f !== "id")]) {
    sortLinks[field] = withParams({ sort: field, marker: undefined });
  }
  return {
    type: "collection",
    resourceType: opts.resourceType,
    links: { self: selfUrl },
    createTypes: opts.createTypes ?? {},
    actions: {},
    data: page.data,
    pagination: {
      limit: query.limit,
      total: page.total,
      ...(query.marker !== undefined ? { marker: query.marker } : {}),
      ...(page.next !== undefined ? { next: withParams({ marker: page.next }) } : {}),
      partial: page.next !== undefined || query.marker !== undefined,
    },
    filters,
    sortLinks,
    sort: { name: query.sort, order: query.order },
  };
}
