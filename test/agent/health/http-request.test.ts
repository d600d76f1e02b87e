import t from "tap";
import { parseRequestLine, requestBytes, type RequestLine } from "../../../agent/health/http-request";

const parsed = (line: string) => parseRequestLine(line) as RequestLine;

t.test("HTTP/1.0: the line, Connection and User-Agent, no Host", async (t) => {
  t.equal(requestBytes(parsed("GET /healthz HTTP/1.0"), "10.42.1.5", 8080).toString("latin1"),
    "GET /healthz HTTP/1.0\r\nConnection: close\r\nUser-Agent: drover-health\r\n\r\n");
});

t.test("HTTP/1.1 adds Host with the address and port (brackets for IPv6)", async (t) => {
  t.equal(requestBytes(parsed("HEAD / HTTP/1.1"), "10.42.1.5", 80).toString("latin1"),
    "HEAD / HTTP/1.1\r\nHost: 10.42.1.5:80\r\nConnection: close\r\nUser-Agent: drover-health\r\n\r\n");
  t.match(requestBytes(parsed("GET / HTTP/1.1"), "fd00::5", 80).toString("latin1"), /\r\nHost: \[fd00::5\]:80\r\n/);
});

t.test("no version means HTTP/1.0 (HAProxy's default); Rancher's quoted form is accepted", async (t) => {
  t.same(parseRequestLine("GET /healthz"), { method: "GET", path: "/healthz", version: "HTTP/1.0" });
  t.same(parseRequestLine('GET "/healthz" "HTTP/1.1"'), { method: "GET", path: "/healthz", version: "HTTP/1.1" });
  t.same(parseRequestLine("  OPTIONS   *  "), { method: "OPTIONS", path: "*", version: "HTTP/1.0" });
});

t.test("bad lines say what was expected", async (t) => {
  const expected = (line: string) => (parseRequestLine(line) as { expected: string }).expected;
  t.match(expected("GET /\r\nX: y"), /one line/);
  t.match(expected("/healthz"), /METHOD PATH/);
  t.match(expected("GET / HTTP/1.0 extra"), /METHOD PATH/);
  t.match(expected("get / HTTP/1.0"), /upper-case HTTP method/);
  t.match(expected("GET healthz HTTP/1.0"), /path starting with "\/"/);
  t.match(expected("GET / HTTP/2"), /HTTP\/1.0 or HTTP\/1.1/);
});
