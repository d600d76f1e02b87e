import t from "tap";
import { INCOMPLETE, MALFORMED, statusCode, statusPasses } from "../../../agent/health/http-status";

const code = (text: string) => {
  const b = Buffer.from(text, "latin1");
  return statusCode(b, b.length);
};

t.test("a complete status line gives its code", async (t) => {
  t.equal(code("HTTP/1.1 200 OK\r\n"), 200);
  t.equal(code("HTTP/1.0 503 Service Unavailable\r\n"), 503);
  t.equal(code("HTTP/1.1 302\r\n"), 302, "no reason phrase");
  t.equal(code("HTTP/1.1 204\n"), 204, "bare LF");
  t.equal(code("HTTP/1.1 404 "), 404, "13 bytes are enough");
});

t.test("fewer bytes than a status line: incomplete while they could still be one", async (t) => {
  for (const partial of ["", "H", "HTTP/", "HTTP/1.1", "HTTP/1.1 2", "HTTP/1.1 200"]) t.equal(code(partial), INCOMPLETE, JSON.stringify(partial));
});

t.test("garbage is malformed as soon as a byte is wrong", async (t) => {
  for (const bad of ["x", "<html>", "HTTP/1.1 OK", "HTTP/11 200 OK", "http/1.1 200 OK", "HTTP/1.1 20\r\n", "HTTP/1.1 2000 OK", "SSH-2.0-OpenSSH", "HTTP/1.1  200"]) {
    t.equal(code(bad), MALFORMED, JSON.stringify(bad));
  }
});

t.test("only the given length is read", async (t) => {
  const b = Buffer.from("HTTP/1.1 200 OK", "latin1");
  t.equal(statusCode(b, 5), INCOMPLETE);
});

t.test("2xx and 3xx pass, the rest fail", async (t) => {
  for (const c of [200, 204, 299, 301, 302, 399]) t.ok(statusPasses(c), String(c));
  for (const c of [100, 101, 199, 400, 404, 500, 503]) t.notOk(statusPasses(c), String(c));
});
