/**
 * A health check's HTTP request line, parsed the same way by the API's validator and the
 * agent's checker: `METHOD PATH [VERSION]` with VERSION `HTTP/1.0` (the default, as
 * HAProxy's `option httpchk` has it) or `HTTP/1.1`, tokens separated by spaces. Rancher's
 * own form quotes the path and version (`GET "/healthz" "HTTP/1.0"`); the quotes are dropped.
 */

export interface RequestLine {
  method: string;
  path: string;
  version: "HTTP/1.0" | "HTTP/1.1";
}

const METHOD = /^[A-Z][A-Z-]*$/;
/** Printable ASCII without spaces or quotes: what can stand in a request target unescaped. */
const TARGET = /^[\x21\x23-\x7e]+$/;

const unquote = (token: string) => (token.length >= 2 && token.startsWith('"') && token.endsWith('"') ? token.slice(1, -1) : token);

/** The parsed line, or what was expected (for a validation message). */
export function parseRequestLine(line: string): RequestLine | { expected: string } {
  if (/[\r\n]/.test(line)) return { expected: "one line (no CR or LF)" };
  const tokens = line.trim().split(/ +/).map(unquote);
  if (tokens.length < 2 || tokens.length > 3) return { expected: 'METHOD PATH [VERSION], such as "GET /healthz HTTP/1.0"' };
  const [method, path, version = "HTTP/1.0"] = tokens;
  if (!METHOD.test(method)) return { expected: `an upper-case HTTP method first, such as GET (got ${JSON.stringify(method.slice(0, 20))})` };
  if (!TARGET.test(path) || !(path.startsWith("/") || path === "*" || /^https?:\/\//.test(path))) {
    return { expected: `a path starting with "/" second, printable ASCII without spaces or quotes (got ${JSON.stringify(path.slice(0, 40))})` };
  }
  if (version !== "HTTP/1.0" && version !== "HTTP/1.1") return { expected: `HTTP/1.0 or HTTP/1.1 as the version (got ${JSON.stringify(version.slice(0, 20))})` };
  return { method, path, version };
}

