import * as http from "http";
import type { AddressInfo } from "net";
import t from "tap";
import { upgradeRouterOf } from "../../../runtime/api/upgrade-router";
import { apiFixture } from "./api-fixture";

// Status of a websocket upgrade request to `path` (101 when a handler took it).
function upgrade(base: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), {
      headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" },
      timeout: 5000,
    });
    req.on("response", (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on("upgrade", (res, socket) => { socket.destroy(); resolve(res.statusCode ?? 0); });
    req.on("timeout", () => req.destroy(new Error(`no answer to an upgrade of ${path} within 5 s`)));
    req.on("error", reject);
    req.end();
  });
}

t.test("the API server answers an upgrade to an unknown path 404 at once, not left hanging", async (t) => {
  const f = await apiFixture(t);
  t.equal(await upgrade(f.url, "/v1/nothing-here"), 404);
  t.equal(await upgrade(f.url, "/"), 404);
});

t.test("the router sends each upgrade to the endpoint that registered its path; unregistered paths get 404", async (t) => {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const router = upgradeRouterOf(server);
  t.equal(upgradeRouterOf(server), router, "one router per server");
  const took: string[] = [];
  const answer = (name: string) => (_req: http.IncomingMessage, socket: import("stream").Duplex, _head: Buffer, pathname: string) => {
    took.push(`${name} ${pathname}`);
    socket.end("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  };
  const offExact = router.register({ exact: "/v1/stats" }, answer("stats"));
  router.register({ prefix: "/v1/streams/" }, answer("streams"));
  t.throws(() => router.register({ prefix: "/v1/streams/" }, answer("again")), /registered already/, "a path is registered once");

  t.equal(await upgrade(base, "/v1/stats?since=1"), 101);
  t.equal(await upgrade(base, "/v1/streams/exec/i1"), 101);
  t.same(took, ["stats /v1/stats", "streams /v1/streams/exec/i1"], "each path went to its endpoint, with the path");
  t.equal(await upgrade(base, "/v1/statsx"), 404, "an exact path does not match a longer one");
  t.equal(await upgrade(base, "/v1/streams/"), 404, "a prefix alone is not one of its paths");
  t.equal(await upgrade(base, "/v1/agentstreams/s1"), 404, "a path nobody registered");
  offExact();
  t.equal(await upgrade(base, "/v1/stats"), 404, "an unregistered endpoint's path is 404 again");
  t.equal(took.length, 2, "no handler saw the refused upgrades");
});
