/**
 * The stats websocket against real Redis and a real API server: tokens minted by POST and
 * checked before the upgrade (bad, expired, other environment's), history then live samples,
 * and the limits (a data frame, an oversized frame, a slow reader), each dropping only its
 * own socket while the server keeps serving the others.
 */
import { randomBytes } from "crypto";
import Redis from "ioredis";
import t from "tap";
import WebSocket from "ws";
import { startApiServer } from "../../../runtime/api";
import { attachStatsSocket } from "../../../runtime/dashboard/stats-socket";
import { mintStreamToken } from "../../../runtime/dashboard/stream-token";
import { makeKeys } from "../../../runtime/protocol/keys";
import type { StatsMessage, StatsSample } from "../../../runtime/protocol/stats";
import { Keyring } from "../../../runtime/secrets/keyring";
import { RedisStore } from "../../../runtime/store/redis-store";
import { waitFor } from "../../support/wait";
import { httpCall, redisUrl, registration, testMasterKey } from "../api/api-fixture";
import { deleteUnderPrefix } from "../store/store-fixture";

const prefix = `tdash-${randomBytes(4).toString("hex")}`;
const keys = makeKeys(prefix);
const adminKey = `admin-${randomBytes(16).toString("hex")}`;

function sample(t: number, containers = 1, pad = 0): StatsSample {
  return {
    t,
    host: { cpu: 0.5, cpus: 2, memUsedBytes: 1, memTotalBytes: 2, netRxBps: 0, netTxBps: 0, diskReadBps: 0, diskWriteBps: 0, load1: 0.1 },
    containers: Array.from({ length: containers }, (_, i) => ({ name: `c${i}${"x".repeat(pad)}`, cpu: 0.1, memBytes: 10 })),
  };
}

interface Client {
  ws: WebSocket;
  messages: StatsMessage[];
  closed?: { code: number; reason: string };
}

t.test("stats websocket", async (t) => {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, connectionName: prefix });
  const keyring = new Keyring(redis, keys, testMasterKey);
  const store = new RedisStore(redis, keys, { keyring });
  const logged: string[] = [];
  const server = await startApiServer({ store, keyring, adminKey, registration: { ...registration, keyPrefix: prefix }, log: () => {} }, { host: "127.0.0.1", port: 0 });
  const socket = attachStatsSocket(server.httpServer, {
    adminKey, store, keys, redis, log: (m) => logged.push(m), maxBufferedBytes: 64 * 1024,
  });
  t.teardown(async () => {
    socket.close();
    await server.close();
    await deleteUnderPrefix(redis, prefix);
    redis.disconnect();
  });
  const call = (method: string, path: string, key: string) => httpCall(server.url, method, path, { key });
  const newEnv = async (name: string, hostId: string) => {
    const r = await httpCall(server.url, "POST", "/v1/environments", { key: adminKey, body: { name } });
    const env = { id: r.body.id as string, apiKey: r.body.apiKey as string };
    await store.write(env.id, { put: [{ kind: "host", record: { id: hostId, envId: env.id, name: hostId, labels: {}, state: "active", deactivated: false, createdAt: new Date().toISOString(), rev: 0 } }] });
    return env;
  };
  const a = await newEnv("dash-a", "1ha");
  const b = await newEnv("dash-b", "1hb");
  const publish = (envId: string, hostId: string, s: StatsSample) =>
    redis.xadd(keys.host(envId, hostId).stats, "MAXLEN", "~", "150", "*", "s", JSON.stringify(s));
  const wsUrl = (token: string, since?: number) => `${server.url.replace(/^http/, "ws")}/v1/stats?token=${encodeURIComponent(token)}${since !== undefined ? `&since=${since}` : ""}`;

  const open = (url: string): Promise<Client> => new Promise((resolve, reject) => {
    const c: Client = { ws: new WebSocket(url), messages: [] };
    c.ws.on("message", (data) => c.messages.push(JSON.parse(String(data))));
    c.ws.on("close", (code, reason) => { c.closed = { code, reason: String(reason) }; });
    c.ws.once("open", () => resolve(c));
    c.ws.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    c.ws.once("error", reject);
  });
  const refusal = (url: string) => open(url).then((c) => { c.ws.close(); return 0; }, (err: { status?: number }) => err.status ?? -1);
  const token = async (env: { id: string; apiKey: string }) => {
    const r = await call("POST", `/v1/environments/${env.id}/statstokens`, env.apiKey);
    t.equal(r.status, 201, "token minted");
    return r.body.token as string;
  };

  await t.test("tokens: minted per environment, checked before the upgrade", async (t) => {
    t.equal((await call("POST", `/v1/environments/${b.id}/statstokens`, a.apiKey)).status, 404, "env A's key gets no token for env B");
    t.equal((await call("POST", `/v1/environments/${a.id}/statstokens`, "nope-" + "x".repeat(20))).status, 401, "unknown key refused");
    const good = await token(a);
    t.equal(await refusal(wsUrl("")), 401, "no token: 401");
    t.equal(await refusal(wsUrl("garbage")), 401, "malformed token: 401");
    t.equal(await refusal(wsUrl(good.slice(0, -2) + (good.endsWith("AA") ? "BB" : "AA"))), 401, "tampered signature: 401");
    t.equal(await refusal(wsUrl(mintStreamToken("another-admin-key-000000", a.id).token)), 401, "token of another installation: 401");
    t.equal(await refusal(wsUrl(mintStreamToken(adminKey, a.id, Date.now() - 60_000).token)), 401, "expired token: 401");
    t.equal(await refusal(wsUrl(mintStreamToken(adminKey, "1anotthere").token)), 404, "environment gone: 404");
    t.equal(await refusal(wsUrl(good)), 0, "the good token opens a socket");
    t.equal((await httpCall(server.url, "GET", "/v1/environments")).status, 401, "the API still answers after the refusals");
  });

  await t.test("history since a time, then live samples of the token's environment only", async (t) => {
    const now = Date.now();
    await publish(a.id, "1ha", sample(now - 4000));
    await publish(a.id, "1ha", sample(now - 2000));
    await publish(b.id, "1hb", sample(now - 2000));
    const c = await open(wsUrl(await token(a), now - 60_000));
    t.teardown(() => c.ws.terminate());
    await waitFor(() => c.messages.length >= 2, { what: "the two samples of the history" });
    t.same(c.messages.map((m) => m.sample.t), [now - 4000, now - 2000], "history in order");
    await publish(a.id, "1ha", sample(now + 1));
    await waitFor(() => c.messages.length >= 3, { what: "a live sample" });
    t.equal(c.messages[2].sample.t, now + 1, "live sample delivered");
    await publish(b.id, "1hb", sample(now + 2));
    await publish(a.id, "1ha", sample(now + 3));
    await waitFor(() => c.messages.length >= 4, { what: "the next live sample" });
    t.ok(c.messages.every((m) => m.hostId === "1ha"), "never a sample of another environment's host");
    // Resuming after the last id seen brings nothing twice.
    const resumed = await open(wsUrl(await token(a), Number(c.messages[3].id.split("-")[0])));
    t.teardown(() => resumed.ws.terminate());
    await publish(a.id, "1ha", sample(now + 4));
    await waitFor(() => resumed.messages.length >= 1, { what: "the resumed socket's first sample" });
    t.same(resumed.messages.map((m) => m.sample.t), [now + 4], "resumed: only what came after");
  });

  await t.test("limits: data frames, oversized frames and slow readers drop only that socket", async (t) => {
    const healthy = await open(wsUrl(await token(a)));
    t.teardown(() => healthy.ws.terminate());
    const chatty = await open(wsUrl(await token(a)));
    chatty.ws.send("hello");
    await waitFor(() => chatty.closed, { what: "the chatty socket to close" });
    t.equal(chatty.closed!.code, 1003, "a data frame: 1003");
    const big = await open(wsUrl(await token(a)));
    big.ws.send(Buffer.alloc(4096, 1));
    await waitFor(() => big.closed, { what: "the oversized frame's socket to close" });
    t.equal(big.closed!.code, 1009, "an oversized frame: 1009");

    const slow = await open(wsUrl(await token(a)));
    // A client that stops reading: its socket is paused, so the server's send buffer fills.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const before = socket.clients();
    let n = 0;
    await waitFor(async () => {
      for (let i = 0; i < 20; i++) await publish(a.id, "1ha", sample(Date.now() + n++, 200, 200));
      return socket.clients() < before;
    }, { what: "the slow reader to be dropped", timeoutMs: 30_000, intervalMs: 50 });
    t.pass(`slow reader dropped after ${n} samples of ~50 KB`);
    const marker = Date.now() + n + 1000;
    await publish(a.id, "1ha", sample(marker));
    await waitFor(() => healthy.messages.some((m) => m.sample.t === marker), { what: "the healthy client to keep receiving" });
    t.notOk(healthy.closed, "the healthy client is still open");
  });
});
