import * as net from "net";
import t, { type Test } from "tap";
import { hostProvider } from "../../provider";
import { classifyConnectError } from "../../provider/drivers/ssh-runner";
import { hostStepMessage, oneLineError, stepFailure } from "../../provider/drivers/step-error";
import { freePort } from "../support/free-port";

// Host errors keep their cause: the step, the host, the input to look at, one line, no
// stack trace. Real sockets where it is cheap (a closed port, a server that never speaks
// ssh); the lab's sshd covers host key and authentication (host-ssh.test.ts).
const { utils } = require("ssh2");
const privateKey: string = utils.generateKeyPairSync("ed25519").private;
const conn = { endpoint: "http://127.0.0.1:9", apiKey: "drk_test", envId: "env1", registrationToken: "drt_test" };

/** One line, no "    at " frames, and what the dynamic-provider host prints is one line too. */
function assertOneLine(t: Test, err: any) {
  t.notMatch(err.message, /\n/, "the message is one line");
  t.notMatch(`${err}: ${err.stack}`, /\n|\bat .*\.js:\d+/, "what the engine prints has no stack trace", { printed: `${err}: ${err.stack}` });
}

t.test("ssh2's connection errors map to the step and the input to blame", async (t) => {
  const o = { user: "root", port: 22 };
  t.match(classifyConnectError({ level: "client-authentication", message: "All configured authentication methods failed" }, o),
    { step: "authentication", field: "driver.privateKey", detail: /refused the key for user root/ });
  t.match(classifyConnectError(new Error("Handshake failed"), { ...o, keyMismatch: "the server's host key SHA256:x does not match driver.hostKey" }),
    { step: "host key check", field: "driver.hostKey" }, "a host key mismatch wins over ssh2's generic error");
  t.match(classifyConnectError({ level: "client-timeout", message: "Timed out" }, o), { step: "connect", field: "driver.address", detail: /no ssh handshake within 20 s/ });
  t.match(classifyConnectError({ code: "ECONNREFUSED", message: "x" }, { ...o, port: 2222 }), { step: "connect", field: "driver.port" });
  t.match(classifyConnectError({ code: "ENOTFOUND", message: "x" }, o), { step: "connect", field: "driver.address", detail: /does not resolve/ });
});

t.test("messages: field, host, step, how, detail on one line", async (t) => {
  const msg = hostStepMessage("node1", "ssh root@10.0.0.5:22", stepFailure("Docker check", "Docker does not answer\non /x", "driver.dockerSocket"));
  t.equal(msg, "driver.dockerSocket: host node1: Docker check failed (ssh root@10.0.0.5:22): Docker does not answer | on /x");
  t.equal(hostStepMessage("node1", "local", new Error("GET http://x → 401 Unauthorized")), "host node1 (local): GET http://x → 401 Unauthorized", "other errors keep their message, with the host");
  t.equal(hostStepMessage("node1", "local", new Error("endpoint: required: set the input")), "endpoint: host node1 (local): required: set the input", "an input named first stays first");
  const err: any = oneLineError("boom", { id: "h1", properties: { a: 1 } });
  t.same([err.id, err.properties], ["h1", { a: 1 }], "a partial resource keeps its id and properties");
  assertOneLine(t, err);
});

t.test("create against a closed port and a server that never speaks ssh", async (t) => {
  const closed = await freePort();
  const inputs = { ...conn, name: "node1", driver: { type: "ssh", address: "127.0.0.1", port: closed, privateKey } };
  const refused: any = await hostProvider.create(inputs).then(() => undefined, (e: unknown) => e);
  t.match(refused?.message, new RegExp(`^driver\\.port: host node1: connect failed \\(ssh root@127\\.0\\.0\\.1:${closed}\\): connection refused on port ${closed}$`));
  assertOneLine(t, refused);

  // Accepts TCP and says nothing: ssh2 gives up on the handshake.
  const silent = net.createServer(() => { /* never answers */ });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => { silent.close(() => resolve()); for (const s of sockets) s.destroy(); }));
  const sockets: net.Socket[] = [];
  silent.on("connection", (s) => sockets.push(s));
  const port = (silent.address() as net.AddressInfo).port;
  const started = Date.now();
  const mute: any = await hostProvider.delete("h1", { ...inputs, driver: { ...inputs.driver, port } }).then(() => undefined, (e: unknown) => e);
  t.match(mute?.message, new RegExp(`^driver\\.address: host node1: connect failed \\(ssh root@127\\.0\\.0\\.1:${port}\\): no ssh handshake within 20 s$`), "delete fails at connect, before touching the server");
  t.ok(Date.now() - started < 30_000, "within the handshake deadline");
  assertOneLine(t, mute);
});
