// The API client of the dashboard: the key lives in this tab's sessionStorage (gone when the
// tab closes, never in a URL) and goes out as a bearer header, as with any API client.
const KEY = "drover.apiKey";

export const session = {
  key: () => sessionStorage.getItem(KEY),
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? `${status}: ${body.message}` : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** The path of an API URL on this server (links are absolute URLs). */
export function apiPath(url) {
  // A string operation, not new URL(): pages call this for thousands of links.
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)?$/i.exec(url);
  return m ? m[1] || "/" : url;
}

export async function api(path, init = {}) {
  const res = await fetch(apiPath(path), {
    ...init,
    headers: { authorization: `Bearer ${session.key()}`, ...(init.body ? { "content-type": "application/json" } : {}), ...init.headers },
  });
  const text = await res.text();
  let body = text;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

/** Every item of a collection, following `pagination.next`. */
export async function listAll(path) {
  const out = [];
  let next = path + (path.includes("?") ? "&" : "?") + "limit=1000";
  while (next) {
    const page = await api(next);
    out.push(...page.data);
    next = page.pagination && page.pagination.next;
  }
  return out;
}
