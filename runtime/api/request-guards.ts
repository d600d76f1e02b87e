/**
 * Checks every request passes before its handler runs, whatever the route (routes added
 * later get them without doing anything):
 * - a path that exists with another method answers 405 with `Allow`, not 404 (the resource is
 *   there; the method is wrong);
 * - a query parameter given twice is refused (422 naming it), so `?action=scale&action=restart`
 *   or `?limit=1&limit=1000` is never half-applied or silently read as one of them. The one
 *   exception: a collection filter on a GET (`?name=a&name=b` means either), which
 *   Rancher's collections take and filters.ts reads as a list.
 */
import { DroverError } from "../protocol/errors";

/** Query parameters that are one value by nature, on every method. */
const SINGLE_VALUED = new Set(["action", "limit", "marker", "sort", "order", "lastEventId"]);

export function methodNotAllowed(method: string, path: string, allowed: readonly string[]): DroverError {
  return new DroverError("MethodNotAllowed", `${method} is not allowed on ${path}: it takes ${allowed.join(", ")}`, { detail: { allow: [...allowed] } });
}

export function refuseRepeatedParams(method: string, query: URLSearchParams): void {
  const seen = new Set<string>();
  for (const name of query.keys()) {
    if (seen.has(name) && (method !== "GET" || SINGLE_VALUED.has(name))) {
      const values = query.getAll(name).map((v) => JSON.stringify(v)).join(" and ");
      throw new DroverError("InvalidField", `${name}: given ${query.getAll(name).length} times (${values}); give it once`, { field: name });
    }
    seen.add(name);
  }
}
