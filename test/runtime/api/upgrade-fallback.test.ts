import * as http from "http";
import t from "tap";
import { isWebsocketPath } from "../../../runtime/api/upgrade-fallback";
import { apiFixture } from "./api-fixture";

// A websocket upgrade to a path no endpoint takes is answered 404 at once, not left hanging.
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

t.test("an upgrade to an unknown path gets 404; the websocket endpoints' paths are theirs", async (t) => {
  const f = await apiFixture(t);
  t.equal(await upgrade(f.url, "/v1/nothing-here"), 404);
  t.equal(await upgrade(f.url, "/"), 404);
  // The endpoints' own paths are left to their handlers.
  for (const p of ["/v1/stats", "/v1/streams/s1", "/v1/agentstreams/s1"]) t.ok(isWebsocketPath(p), p);
  for (const p of ["/v1/statsx", "/v1/streams", "/"]) t.notOk(isWebsocketPath(p), p);
});
