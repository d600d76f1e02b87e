import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import t, { type Test } from "tap";
import { WebSocketServer } from "ws";
import { DroverApi } from "../../../runtime/cli/day-two/api-client";
import { openStream } from "../../../runtime/cli/day-two/stream-client";
import { issueCertificate, loadOrCreateCa } from "../../../runtime/tls/ca";

// `drover exec`/`logs` ask for a token, then open the websocket it names on the same server:
// both ride one keep-alive connection (one TCP and TLS handshake, not two). A server that
// answers the token and takes the upgrade, counting the connections it accepts.
async function tokenServer(t: Pick<Test, "teardown">, tls?: { key: string; cert: string }) {
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.resume();
    req.on("end", () => {
      const scheme = tls ? "wss" : "ws";
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ token: "1aenv.secret", url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}/v1/streams/exec/i1` }));
    });
  };
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  let connections = 0;
  server.on(tls ? "secureConnection" : "connection", () => { connections++; });
  const wss = new WebSocketServer({ noServer: true });
  const seen: Array<string | undefined> = [];
  server.on("upgrade", (req, socket, head) => {
    seen.push(req.headers.authorization);
    wss.handleUpgrade(req, socket, head, (ws) => ws.close(1000));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.teardown(() => new Promise<void>((r) => { wss.close(); server.closeAllConnections(); server.close(() => r()); }));
  return { url: `${tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, seen };
}

t.test("the token request and the stream's upgrade share one connection (http)", async (t) => {
  const s = await tokenServer(t);
  const api = new DroverApi({ url: s.url, accessKey: "key", envId: "1aenv" });
  const ws = await openStream(api, "i1", "execute", { command: ["true"] });
  await new Promise((r) => ws.once("close", r));
  t.same(s.seen, ["Bearer 1aenv.secret"], "the upgrade carried the token in its header");
  t.equal(s.connections(), 1, "one connection for both");
});

t.test("the token request and the stream's upgrade share one connection (https, pinned CA)", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-stream-conn-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ca = await loadOrCreateCa(dir);
  const leaf = issueCertificate(ca, { commonName: "api", names: ["127.0.0.1"], usage: ["server"], days: 1 });
  const s = await tokenServer(t, { key: leaf.key!, cert: leaf.cert });
  const api = new DroverApi({ url: s.url, accessKey: "key", envId: "1aenv", ca: ca.cert });
  const ws = await openStream(api, "i1", "execute", { command: ["true"] });
  await new Promise((r) => ws.once("close", r));
  t.same(s.seen, ["Bearer 1aenv.secret"], "the upgrade carried the token in its header");
  t.equal(s.connections(), 1, "one TLS handshake for both");
});
