import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Redis from "ioredis";
import t from "tap";
import { makeKeys } from "../../../runtime/protocol/keys";
import { REVOKED_KEY_REFUSAL } from "../../../runtime/protocol/host-identity";
import { request } from "../../../runtime/protocol/pinned-https";
import { resolveServerConfig } from "../../../runtime/server/config";
import { startServer } from "../../../runtime/server/server";
import { loadOrCreateCa } from "../../../runtime/tls/ca";
import { createLogger } from "../../../runtime/protocol/log";
import { freePort } from "../../support/free-port";
import { newHostKey, signedRegistration, type TestHostKey } from "../../support/host-identity";
import { startPrivateRedis } from "../../support/redis-server";
import { waitFor } from "../../support/wait";

// Revocation at host delete, every hop over TLS: a server with --api-tls on and a TLS-only
// Redis taking client certificates from the server's CA. Two hosts register (signed, over
// HTTPS) and each reaches Redis with the client certificate it was issued. Host A is
// deleted (deactivate, DELETE; the server's reconciler removes the record): its identity key
// is in the revoked set, written by that same write; its certificate and password no longer
// open Redis (a real TLS connection, refused), a registration signed with its key is refused
// (403, naming the revocation) and changes nothing; host B's certificate, key and
// registration still work.

t.test("a deleted host's identity key and certificate are refused; another host's still work", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-revoke-"));
  const tlsDir = path.join(dir, "tls");
  const ca = await loadOrCreateCa(tlsDir);
  const redis = await startPrivateRedis(["127.0.0.1"], { tls: { ca, dir: tlsDir } });
  const adminKey = `adm-${randomBytes(12).toString("hex")}`;
  fs.writeFileSync(path.join(dir, "admin-key"), adminKey, { mode: 0o600 });
  const server = await startServer(resolveServerConfig({
    redis: redis.url, listen: `127.0.0.1:${await freePort()}`, "api-tls": "on", "tls-dir": tlsDir,
    "admin-key-file": path.join(dir, "admin-key"), "master-key-file": path.join(dir, "master-key"),
    "key-prefix": "revoke", "server-id": "revoke1",
  }), createLogger(() => undefined));
  const clients: Redis[] = [];
  t.teardown(async () => {
    for (const c of clients) c.disconnect();
    await server.close();
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: string, p: string, key?: string, body?: unknown) => {
    const res = await request(server.url + p, {
      method, ca: ca.cert, headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: res.text ? JSON.parse(res.text) : undefined };
  };
  const env = (await call("POST", "/v1/environments", adminKey, { name: "revoke" })).body;
  const register = (machineId: string, hostname: string, key: TestHostKey) => call("POST", "/v1/register", undefined, signedRegistration({
    token: env.registrationToken, machineId, hostname, agentVersion: "1", dockerVersion: "1", kernelVersion: "1", underlayIp: "198.18.0.11",
  }, key));
  /** A TLS connection to Redis with a host's client certificate and credentials: resolves PONG or rejects with Redis's refusal. */
  const ping = async (reg: any, key: TestHostKey) => {
    const u = new URL(reg.redis.url);
    const c = new Redis({
      host: u.hostname, port: Number(u.port), username: reg.redis.username, password: reg.redis.password, lazyConnect: true,
      maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, enableReadyCheck: false,
      tls: { ca: reg.redis.ca, cert: reg.redis.clientCert, key: key.privateKey.export({ type: "pkcs8", format: "pem" }).toString() },
    });
    clients.push(c);
    const emitted: string[] = [];
    c.on("error", (e: Error) => emitted.push(e.message));
    try {
      await c.connect();
      return await c.ping();
    } catch (err) {
      throw new Error([...emitted, (err as Error).message].join("; "));
    } finally {
      c.disconnect();
    }
  };

  const keyA = newHostKey();
  const keyB = newHostKey();
  const a = await register("m-a", "host-a", keyA);
  const b = await register("m-b", "host-b", keyB);
  t.same([a.status, b.status], [201, 201], "two hosts registered over HTTPS");
  t.ok(a.body.redis.clientCert && b.body.redis.clientCert, "each got a Redis client certificate");
  t.equal(await ping(a.body, keyA), "PONG", "host A's certificate opens Redis over TLS");
  t.equal(await ping(b.body, keyB), "PONG", "host B's too");

  const hostPath = `/v1/environments/${env.id}/hosts/${a.body.hostId}`;
  t.equal((await call("POST", `${hostPath}?action=deactivate`, env.apiKey)).status, 202);
  t.equal((await call("DELETE", hostPath, env.apiKey)).status, 202, "host A deleted");
  await waitFor(async () => (await call("GET", hostPath, env.apiKey)).status === 404, { what: "host A's record removed by the reconciler", timeoutMs: 20_000 });

  const revoked = await redis.client().hgetall(makeKeys("revoke").env(env.id).revokedHostKeys);
  t.same(Object.values(revoked), [a.body.hostId], "the revoked set holds host A's key, and only it");
  t.equal(Object.keys(revoked)[0].trim(), keyA.publicKeyPem.trim(), "under its identity key");

  const refused = await ping(a.body, keyA).then(() => "PONG", (e: Error) => e.message);
  t.not(refused, "PONG", "host A's certificate and password are refused by Redis");
  t.match(refused, /WRONGPASS|invalid username-password/i, "at authentication: the user is gone");
  t.equal(await ping(b.body, keyB), "PONG", "host B's certificate still opens Redis");

  const before = (await call("GET", `/v1/environments/${env.id}/hosts`, env.apiKey)).body.data.map((h: any) => `${h.id}:${h.rev}`);
  const again = await register("m-a", "host-a", keyA);
  t.equal(again.status, 403, "a registration signed with the revoked key is refused");
  t.ok(again.body.message.startsWith(REVOKED_KEY_REFUSAL), "saying the key is revoked (the agent makes a new one on this)");
  t.match(again.body.message, new RegExp(`host ${a.body.hostId}`), "naming the removed host");
  const newMachine = await register("m-a2", "host-a2", keyA);
  t.equal(newMachine.status, 403, "also under another machine id");
  t.same((await call("GET", `/v1/environments/${env.id}/hosts`, env.apiKey)).body.data.map((h: any) => `${h.id}:${h.rev}`), before, "the refusals changed no host");

  const bAgain = await register("m-b", "host-b", keyB);
  t.equal(bAgain.status, 201, "host B registers again with its key");
  t.equal(bAgain.body.hostId, b.body.hostId, "as the same host");
  const fresh = await register("m-a", "host-a", newHostKey());
  t.equal(fresh.status, 201, "machine A with a new key registers (the token decides who joins)");
  t.not(fresh.body.hostId, a.body.hostId, "as a new host");
});

