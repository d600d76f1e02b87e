import { randomBytes } from "crypto";
import * as fs from "fs";
import * as https from "https";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { expectOk } from "../../provider/client";
import type { Connection } from "../../provider/settings";
import { createCa, issueCertificate, loadOrCreateCa, certificateFingerprint, type CertificateAuthority } from "../../runtime/tls/ca";
import { resolveServerConfig } from "../../runtime/server/config";
import { startServer, type RunningServer } from "../../runtime/server/server";
import { freePort } from "../support/free-port";
import { startPrivateRedis, type PrivateRedis } from "../support/redis-server";
import { waitFor } from "../support/wait";
import { AgentProcess } from "./support/agent-process";
import { createLogger } from "../../runtime/protocol/log";

// Every hop over TLS: a real server with --api-tls on and a rediss:// Redis (TLS only, client
// certificates from the server's CA). The provider's client and the agent pin the CA by
// fingerprint; another CA, or someone answering with the right CA certificate but a
// certificate it did not sign, is refused with a message that says so.
let dir: string;
let ca: CertificateAuthority;
let redis: PrivateRedis;
let server: RunningServer;
const adminKey = `adm-${randomBytes(12).toString("hex")}`;
const agents: AgentProcess[] = [];
let env: { id: string; apiKey: string; registrationToken: string; caFingerprint: string; registrationCommand: string };

t.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-tls-"));
  const tlsDir = path.join(dir, "tls");
  ca = await loadOrCreateCa(tlsDir);
  redis = await startPrivateRedis(["127.0.0.1"], { tls: { ca, dir: tlsDir } });
  fs.writeFileSync(path.join(dir, "admin-key"), adminKey, { mode: 0o600 });
  const port = await freePort();
  server = await startServer(resolveServerConfig({
    redis: redis.url, listen: `127.0.0.1:${port}`, "api-tls": "on", "tls-dir": tlsDir,
    "admin-key-file": path.join(dir, "admin-key"), "master-key-file": path.join(dir, "master-key"),
    "key-prefix": "tls", "server-id": "tls1",
  }), createLogger(() => undefined));
});

t.teardown(async () => {
  for (const a of agents) await a.kill("SIGKILL");
  if (process.env.DROVER_TEST_AGENT_LOG) for (const a of agents) process.stderr.write(`--- agent ${a.pid}\n${a.raw.join("\n")}\n`);
  await server?.close();
  await redis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function admin(caFingerprint?: string): Connection {
  return { endpoint: server.url, key: adminKey, ...(caFingerprint ? { caFingerprint } : {}) };
}

function anotherCa(): CertificateAuthority {
  const made = createCa("another CA");
  return { ...made, fingerprint: certificateFingerprint(made.cert) };
}

function startAgent(url: string, fingerprint: string | undefined, token: string): AgentProcess {
  const stateDir = fs.mkdtempSync(path.join(dir, "agent-"));
  const pin = fingerprint ? ["--ca-fingerprint", fingerprint] : [];
  const a = new AgentProcess(["--url", url, "--token", token, ...pin, "--state-dir", stateDir, "--hostname", `tls-${path.basename(stateDir)}`]);
  agents.push(a);
  return a;
}

t.test("the API serves HTTPS only; the provider's client pinning the CA creates an environment", async (t) => {
  t.match(server.url, /^https:\/\//);
  env = await expectOk(admin(ca.fingerprint), "POST", "/v1/environments", { name: "tls" });
  t.equal(env.caFingerprint, ca.fingerprint, "the answer names the CA agents pin");
  t.match(env.registrationCommand, new RegExp(`--url ${server.url} --token \\S+ --ca-fingerprint ${ca.fingerprint}$`));
  const plain = server.url.replace("https:", "http:");
  await t.rejects(expectOk({ endpoint: plain, key: adminKey }, "GET", "/v1/environments"), "plain HTTP gets no answer");
});

t.test("the provider's client pinning another CA is refused, naming both fingerprints", async (t) => {
  const other = anotherCa().fingerprint;
  const err = await expectOk(admin(other), "GET", "/v1/environments").then(() => undefined, (e: Error) => e);
  t.ok(err, "refused");
  t.match(err!.message, `presents a CA with fingerprint ${ca.fingerprint}, not the pinned ${other}`);
});

t.test("the provider's client without a pin does not trust drover's CA, and says what to set", async (t) => {
  const err = await expectOk(admin(), "GET", "/v1/environments").then(() => undefined, (e: Error) => e);
  t.match(err?.message, /certificate is not trusted .*drover:caFingerprint/);
});

t.test("an agent pinning the CA registers over HTTPS and works over TLS Redis with its client certificate", async (t) => {
  const agent = startAgent(server.url, ca.fingerprint, env.registrationToken);
  await agent.waitForLine("registered", (l) => l.msg === "registered", 30_000);
  t.match(agent.lines.find((l) => l.msg === "registered"), { redis: redis.url });
  await agent.waitForLine("running", (l) => l.msg === "agent running", 30_000);
  const conn = { endpoint: server.url, key: env.apiKey, caFingerprint: ca.fingerprint };
  await waitFor(async () => {
    const hosts = (await expectOk(conn, "GET", `/v1/environments/${env.id}/hosts`)).data as { state: string }[];
    return hosts.length === 1 && hosts[0].state === "active";
  }, { what: "the host active (heartbeats through TLS Redis)", timeoutMs: 30_000 });
  t.notMatch(agent.raw.join("\n"), env.registrationToken, "the token is not in the agent's log");
});

t.test("an agent pinning another CA is refused before sending its token, naming both fingerprints", async (t) => {
  const other = anotherCa().fingerprint;
  const agent = startAgent(server.url, other, env.registrationToken);
  const exit = await agent.exited;
  t.equal(exit.code, 1);
  const line = agent.lines.find((l) => l.msg === "agent failed");
  t.match(line, { level: "error", code: "Forbidden", reason: `presents a CA with fingerprint ${ca.fingerprint}, not the pinned ${other}` });
});

t.test("an agent given no pin does not trust drover's CA, and says how to pin it", async (t) => {
  const agent = startAgent(server.url, undefined, env.registrationToken);
  const exit = await agent.exited;
  t.equal(exit.code, 1);
  t.match(agent.lines.find((l) => l.msg === "agent failed"), { code: "Forbidden", reason: /certificate is not trusted: .*--ca-fingerprint/ });
});

t.test("someone answering with the pinned CA's certificate but a certificate it did not sign is refused", async (t) => {
  // The impostor has the public CA certificate (anyone may fetch it), not the CA's key.
  const impostorCert = issueCertificate(anotherCa(), { commonName: "127.0.0.1", names: ["127.0.0.1"], usage: ["server"], days: 1 });
  const seen: string[] = [];
  const impostor = https.createServer({ cert: impostorCert.cert, key: impostorCert.key! }, (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ type: "certificateAuthority", cert: ca.cert }));
  });
  await new Promise<void>((resolve) => impostor.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => { impostor.closeAllConnections(); impostor.close(() => resolve()); }));
  const url = `https://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
  const agent = startAgent(url, ca.fingerprint, env.registrationToken);
  const exit = await agent.exited;
  t.equal(exit.code, 1);
  t.match(agent.lines.find((l) => l.msg === "agent failed"), { code: "Forbidden", reason: /certificate is not signed by the pinned CA/ });
  t.same(seen, ["GET /v1/ca"], "the registration (and its token) never reached the impostor");
});
