import t from "tap";
import { httpListener, OK_200, type HttpMode } from "./support/listeners";
import { fastCheck, statesOf, target, watchedChecker } from "./support/checker";

// HTTP checks against a raw HTTP server on 127.0.0.22 whose answer the test switches.
const HOST = "127.0.0.22";

async function server(t: { teardown(fn: () => unknown): void }, first: HttpMode) {
  let mode = first;
  const l = await httpListener(HOST, () => mode);
  t.teardown(() => l.close());
  return { l, set: (m: HttpMode) => { mode = m; } };
}

t.test("200 passes; 503 fails with its code; back to 200 passes", async (t) => {
  const { l, set } = await server(t, { answer: OK_200 });
  const w = watchedChecker(t);
  w.checker.setTargets([target("api-1", HOST, fastCheck(l.port, { requestLine: "GET /healthz HTTP/1.0" }))]);
  await w.until("api-1", (v) => v.state === "passing", "passing on 200");
  set({ answer: "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n" });
  const sick = await w.until("api-1", (v) => v.state === "failing", "failing on 503");
  t.equal(sick.reason, "HTTP 503");
  set({ answer: OK_200 });
  await w.until("api-1", (v) => v.state === "passing", "passing again");
  t.same(statesOf(w.changes, "api-1"), ["pending", "passing", "failing", "passing"]);
});

t.test("the request: the line, then Host for HTTP/1.1, Connection: close, User-Agent, blank line", async (t) => {
  const { l } = await server(t, { answer: OK_200 });
  const w = watchedChecker(t);
  w.checker.setTargets([
    target("v11", HOST, fastCheck(l.port, { requestLine: "GET /ready?full=1 HTTP/1.1" })),
    target("v10", HOST, fastCheck(l.port, { requestLine: "HEAD /ping HTTP/1.0" })),
  ]);
  await w.until("v11", (v) => v.state === "passing", "passing");
  await w.until("v10", (v) => v.state === "passing", "passing");
  t.ok(l.requests.includes(`GET /ready?full=1 HTTP/1.1\r\nHost: ${HOST}:${l.port}\r\nConnection: close\r\nUser-Agent: drover-health\r\n\r\n`), "HTTP/1.1 with Host");
  t.ok(l.requests.includes("HEAD /ping HTTP/1.0\r\nConnection: close\r\nUser-Agent: drover-health\r\n\r\n"), "HTTP/1.0 without Host");
});

t.test("a 302 passes (3xx counts as healthy)", async (t) => {
  const { l } = await server(t, { answer: "HTTP/1.1 302 Found\r\nLocation: /login\r\nContent-Length: 0\r\n\r\n" });
  const w = watchedChecker(t);
  w.checker.setTargets([target("r-1", HOST, fastCheck(l.port, { requestLine: "GET / HTTP/1.0" }))]);
  const v = await w.until("r-1", (v) => v.state !== "pending", "a verdict");
  t.equal(v.state, "passing");
});

// Each row: what the server does, and the reason the verdict must fail with.
const failures: [string, HttpMode, string][] = [
  ["garbage instead of a status line", { answer: "<html>hello</html>\r\n" }, "malformed HTTP status line"],
  ["a status line cut short", { answer: "HTTP/1.1 2" }, "malformed HTTP status line"],
  ["an answer that never comes", "silent", "timeout after 100 ms"],
  ["a close without a byte", "close", "connection closed before an HTTP status line"],
  ["a reset", "reset", "connection reset"],
  ["a 404", { answer: "HTTP/1.0 404 Not Found\r\n\r\n" }, "HTTP 404"],
];

for (const [what, mode, reason] of failures) {
  t.test(`${what} fails with "${reason}"`, async (t) => {
    const { l } = await server(t, mode);
    const w = watchedChecker(t);
    w.checker.setTargets([target("f-1", HOST, fastCheck(l.port, { requestLine: "GET /healthz HTTP/1.0" }))]);
    const v = await w.until("f-1", (v) => v.state === "failing", "failing");
    t.equal(v.reason, reason);
    t.same(statesOf(w.changes, "f-1"), ["pending", "failing"]);
  });
}

t.test("a never-answering server holds at most one socket per target", async (t) => {
  const { l } = await server(t, "silent");
  const w = watchedChecker(t);
  w.checker.setTargets([target("s-1", HOST, fastCheck(l.port, { requestLine: "GET / HTTP/1.0", unhealthyThreshold: 3 }))]);
  await w.until("s-1", (v) => v.state === "failing", "failing");
  t.ok(l.accepted() >= 3, "one connection per check");
  t.ok(l.open() <= 2, `timed-out checks' sockets are closed (the server holds ${l.open()})`);
  t.ok(w.checker.stats().inFlight <= 1, "at most one check in flight per target");
  // With responseTimeout = interval the next check starts as the last one times out, while
  // the timed-out socket's "close" is still a loop turn away: two at most, never a pile-up.
  t.ok(w.checker.stats().openSockets <= 2, `the checker holds ${w.checker.stats().openSockets} sockets`);
});
