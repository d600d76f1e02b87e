/**
 * Checks every request passes before its handler runs, whatever the route (routes added
 * later get them without doing anything):
 * - a path that exists with another method answers 405 with `Allow`, not 404 (the resource is
 *   there; the method is wrong);
 * - a query parameter given twice is refused (422 naming it), so `?action=scale&action=restart`
 *   or `?limit=1&limit=1000` is never half-applied or silently read as one of them: on a
 *   write, before the handler runs; on a GET, when the handler reads it as one value
 *   (`query.get`). A GET handler that reads a list (`getAll`, iteration) takes repeats: a
 *   collection filter `?name=a&name=b` means either, as in Rancher (filters.ts).
 */
import { DroverError } from "../protocol/errors";

export function methodNotAllowed(method: string, path: string, allowed: readonly string[]): DroverError {
  return new DroverError("MethodNotAllowed", `${method} is not allowed on ${path}: it takes ${allowed.join(", ")}`, { detail: { allow: [...allowed] } });
}

function repeated(name: string, values: string[]): DroverError {
  return new DroverError("InvalidField", `${name}: given ${values.length} times (${values.map((v) => JSON.stringify(v)).join(" and ")}); give it once`, { field: name });
}

/** Query parameters whose single-value read (`get`) refuses a parameter given more than once. */
class SingleValuedParams extends URLSearchParams {
  override get(name: string): string | null {
    const all = this.getAll(name);
    if (all.length > 1) throw repeated(name, all);
    return super.get(name);
  }
}

/** The request's query as handlers see it; a write with any parameter given twice is refused here. */
export function guardedQuery(method: string, query: URLSearchParams): URLSearchParams {
  const seen = new Set<string>();
  for (const name of query.keys()) {
    if (seen.has(name) && method !== "GET") throw repeated(name, query.getAll(name));
    seen.add(name);
  }
  return new SingleValuedParams(query);
}
