import t from "tap";
import * as dgram from "dgram";
import * as net from "net";
import Redis from "ioredis";
import type { DnsDirectory, EnvDnsDocument } from "../../../agent/dns/directory";
import { dnsListenFromEnv, DnsDocumentSource, HostDns } from "../../../agent/dns/host-dns";
import { createLogger } from "../../../agent/log";
import { NudgeReader } from "../../../agent/nudges";
import { RedisLink } from "../../../agent/redis-link";
import { provisionHostUser } from "../../../runtime/store/host-acl";
import { makeKeys } from "../../../runtime/protocol/keys";
import { RedisStore } from "../../../runtime/store/redis-store";
import { RestartableRedis } from "../support/restartable-redis";
import { waitFor } from "../../support/wait";
import { ip, sampleDirectory } from "./support/directory";
import { askTcp } from "./support/tcp";
import { ask } from "./support/udp";

// The agent's DNS component fed from Redis the way a host runs it: the host's own ACL user
// reads the environment's document (written by the server's setDns script, which also
// nudges), a NudgeReader routes `dns` nudges to it. The responder listens on 127.0.0.1 (the
// test client's address is a frontend container of the directory).

interface LogLine { level: string; msg: string; [k: string]: unknown }

function capturingLogger() {
  const lines: LogLine[] = [];
  const log = createLogger((l) => lines.push(JSON.parse(l) as LogLine), "debug");
  return { lines, log };
}

/** The sample environment as seen from 127.0.0.1 (a frontend container), with redis1 (alias `cache`) at `cacheIp`. */
function directoryWith(cacheIp = ip.redis1): DnsDirectory {
  const d = sampleDirectory();
  d.instances = d.instances.map((i) => (i.id === "redis1" ? { ...i, ip: cacheIp } : i));
  d.instances.push({ id: "me", ip: "127.0.0.1", serviceId: "sv-fe", running: true });
  return d;
}

async function cacheIps(port: number): Promise<string[]> {
  return (await ask(port, "cache", "A", { timeoutMs: 1000 })).ips;
}

const redis = new RestartableRedis();
let admin: Redis;
const keys = makeKeys("hd" + Math.random().toString(36).slice(2, 8));

t.before(async () => {
  await redis.start();
  admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  admin.on("error", () => undefined);
});
t.teardown(async () => {
  admin?.disconnect();
  await redis.remove();
});

/** An environment with one host: its ACL user, a RedisLink as that user, nudges routed to a HostDns. */
async function agentSide(t: { teardown(fn: () => unknown): void }, envId: string, hostId = "h1") {
  await admin.set(keys.env(envId).rev, "1"); // the environment exists (setDns checks)
  const password = "p".repeat(24);
  const { username } = await provisionHostUser(admin, keys, envId, hostId, password);
  await admin.call("ACL", "SAVE"); // users survive a restart of the test's Redis
  const { lines, log } = capturingLogger();
  const link = new RedisLink({ url: redis.url, username, password, keyPrefix: keys.prefix }, hostId, log);
  const dns = new HostDns({ source: link.cmd, key: keys.env(envId).dns, address: "127.0.0.1", port: 0, ensureAddress: false, upstreams: [], log });
  const nudges = new NudgeReader(link, keys.host(envId, hostId).nudges, "0-0", () => undefined, async (n) => {
    // What HostSession.onNudge does with a `dns` nudge.
    if (n.type === "dns") dns.refresh("nudge", Number(n.fields.version));
    return true;
  }, log, 1000);
  link.onReady(() => dns.onRedisReady());
  link.connect();
  nudges.start();
  dns.start();
  t.teardown(async () => {
    await nudges.stop();
    await dns.stop();
    link.close();
  });
  await dns.ready();
  return { dns, link, lines, store: new RedisStore(admin, keys), envId, hostId, port: () => dns.port! };
}

t.test("serves the stored document, then follows each server write within 100 ms", async (t) => {
  const a = await agentSide(t, "e-follow");
  await a.store.setDns(a.envId, directoryWith(), [a.hostId]);
  await waitFor(async () => (await cacheIps(a.port())).join() === ip.redis1, { what: "the first document served" });
  t.same((await ask(a.port(), "api")).ips, [ip.api1], "a linked service resolves");
  t.equal((await ask(a.port(), "db")).packet.rcode, "NXDOMAIN", "an unlinked one does not");

  // Time from the write (document + nudge, one script) to the new address being served.
  const elapsed: number[] = [];
  for (let i = 0; i < 20; i++) {
    const want = `10.42.7.${10 + i}`;
    const t0 = performance.now();
    await a.store.setDns(a.envId, directoryWith(want), [a.hostId]);
    // Ask back to back: each try is a real query, bounded by its own deadline.
    for (;;) {
      if ((await cacheIps(a.port())).join() === want) break;
      if (performance.now() - t0 > 3000) throw new Error(`${want} not served within 3 s`);
    }
    elapsed.push(performance.now() - t0);
  }
  const sorted = [...elapsed].sort((x, y) => x - y);
  t.comment(`write → served: median ${sorted[10].toFixed(1)} ms, max ${sorted[19].toFixed(1)} ms over 20 changes`);
  // The suite runs test files side by side on 2 cores: one change in 20 may wait out another
  // process's time slice, so the bound is on 19 of 20, and the slowest gets a loaded machine's margin.
  t.ok(sorted[18] < 100, `19 of 20 changes served within 100 ms (19th ${sorted[18].toFixed(1)} ms)`);
  t.ok(sorted[19] < 500, `the slowest within 500 ms (${sorted[19].toFixed(1)} ms)`);
  t.equal(a.dns.version, 21, "the version of the last write");
  t.same((await askTcp(a.port(), "cache")).ips, ["10.42.7.29"], "TCP serves the same directory");
});

t.test("older, equal, malformed or missing documents leave the last one serving", async (t) => {
  const a = await agentSide(t, "e-guard");
  const key = keys.env(a.envId).dns;
  await a.store.setDns(a.envId, directoryWith("10.42.8.1"), [a.hostId]);
  await a.store.setDns(a.envId, directoryWith("10.42.8.2"), [a.hostId]);
  await waitFor(() => a.dns.version === 2, { what: "version 2 applied" });
  const refreshed = async (raw: string | null) => {
    if (raw === null) await admin.del(key);
    else await admin.set(key, raw);
    a.dns.refresh("test");
    await a.dns.settled();
  };

  await refreshed(JSON.stringify({ version: 1, directory: directoryWith("10.42.8.99") } satisfies EnvDnsDocument));
  t.same(await cacheIps(a.port()), ["10.42.8.2"], "an older version is ignored");
  t.ok(a.lines.some((l) => l.msg === "older dns document ignored" && l.version === 1 && l.serving === 2), "and logged");

  await refreshed(JSON.stringify({ version: 2, directory: directoryWith("10.42.8.98") }));
  t.same(await cacheIps(a.port()), ["10.42.8.2"], "an equal version is the same document: nothing to do");

  const bad = directoryWith("10.42.8.97") as unknown as { instances: Record<string, unknown>[] };
  bad.instances[3] = { ...bad.instances[3], ip: "not-an-ip" };
  await refreshed(JSON.stringify({ version: 5, directory: bad }));
  t.same(await cacheIps(a.port()), ["10.42.8.2"], "a malformed document is refused whole");
  const refusal = a.lines.find((l) => l.msg === "dns document refused; the last one keeps serving");
  t.match(refusal?.reason, /directory\.instances\[3\]\.ip/, "the log names the field");

  await refreshed("{not json");
  await refreshed(null);
  t.same(await cacheIps(a.port()), ["10.42.8.2"], "broken JSON and a deleted key change nothing");
  t.equal(a.dns.version, 2);

  // With the key gone the server's script counts from 1 again: the agent must take it.
  await a.store.setDns(a.envId, directoryWith("10.42.8.3"), [a.hostId]);
  await waitFor(async () => (await cacheIps(a.port())).join() === "10.42.8.3", { what: "the next real write served" });
  t.equal(a.dns.version, 1, "a document written after the key was deleted is served, though its version restarted");
  await a.store.setDns(a.envId, directoryWith("10.42.8.4"), [a.hostId]);
  await waitFor(async () => (await cacheIps(a.port())).join() === "10.42.8.4", { what: "the write after that served" });
  t.equal(a.dns.version, 2);
});

t.test("a Redis outage: the last directory keeps serving; nudges work again after the restart", async (t) => {
  const a = await agentSide(t, "e-outage");
  await a.store.setDns(a.envId, directoryWith("10.42.9.1"), [a.hostId]);
  await waitFor(async () => (await cacheIps(a.port())).join() === "10.42.9.1", { what: "document served" });

  await redis.kill();
  await waitFor(() => !a.link.isReady(), { what: "the agent's link to notice" });
  a.dns.refresh("resync");
  await a.dns.settled();
  t.ok(a.lines.some((l) => l.msg === "dns document not read; the last one keeps serving"), "the failed read is noted");
  for (let i = 0; i < 5; i++) t.same(await cacheIps(a.port()), ["10.42.9.1"], `answer ${i} during the outage unchanged`);
  t.same((await ask(a.port(), "api")).ips, [ip.api1], "other names too");

  await redis.start();
  await waitFor(() => a.link.isReady(), { what: "the agent's link back", timeoutMs: 15_000 });
  await a.store.setDns(a.envId, directoryWith("10.42.9.2"), [a.hostId]);
  await waitFor(async () => (await cacheIps(a.port())).join() === "10.42.9.2", { what: "a write after the outage served", timeoutMs: 10_000 });
  t.pass("served the first write after the restart");
});

/** A document source the test controls, for what real Redis cannot show deterministically. */
class FakeSource implements DnsDocumentSource {
  doc?: EnvDnsDocument;
  down = false;
  reads = 0;
  async get(): Promise<string | null> {
    this.reads++;
    if (this.down) throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
    return this.doc ? JSON.stringify(this.doc) : null;
  }
}

t.test("after a reconnection the stored document wins even if older (restored or failed-over Redis)", async (t) => {
  const source = new FakeSource();
  const { log } = capturingLogger();
  const dns = new HostDns({ source, key: "k", address: "127.0.0.1", port: 0, ensureAddress: false, upstreams: [], log });
  dns.start();
  t.teardown(() => dns.stop());
  await dns.ready();
  source.doc = { version: 40, directory: directoryWith("10.42.10.40") };
  dns.refresh("nudge", 40);
  await dns.settled();
  t.same(await cacheIps(dns.port!), ["10.42.10.40"]);

  source.doc = { version: 3, directory: directoryWith("10.42.10.3") };
  dns.refresh("nudge", 3);
  await dns.settled();
  t.same(await cacheIps(dns.port!), ["10.42.10.40"], "a nudge for an older version does not even read");
  dns.refresh("resync");
  await dns.settled();
  t.same(await cacheIps(dns.port!), ["10.42.10.40"], "and an older document read on resync is ignored");

  source.down = true;
  dns.onRedisReady(); // a read that fails keeps the floor lifted for the next one
  await dns.settled();
  source.down = false;
  dns.refresh("resync");
  await dns.settled();
  t.same(await cacheIps(dns.port!), ["10.42.10.3"], "after a reconnection, what Redis holds now is served");
  t.equal(dns.version, 3);
  source.doc = { version: 2, directory: directoryWith("10.42.10.2") };
  dns.refresh("resync");
  await dns.settled();
  t.same(await cacheIps(dns.port!), ["10.42.10.3"], "then versions only go forward again");
});

t.test("refreshes are coalesced: one read at a time, one more for whatever came meanwhile", async (t) => {
  const source = new FakeSource();
  source.doc = { version: 1, directory: directoryWith() };
  const { log } = capturingLogger();
  const dns = new HostDns({ source, key: "k", address: "127.0.0.1", port: 0, ensureAddress: false, upstreams: [], log });
  dns.start(); // one read
  t.teardown(() => dns.stop());
  for (let i = 0; i < 50; i++) dns.refresh("burst");
  await dns.settled();
  t.equal(source.reads, 2, "51 refreshes, 2 reads");
});

/** A port held on 127.0.0.1 for both UDP and TCP (the kernel picks the TCP one; UDP takes the same number, or another try). */
async function holdUdpAndTcp(): Promise<{ udp: dgram.Socket; tcp: net.Server; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const tcp = net.createServer();
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", () => resolve()));
    const port = (tcp.address() as net.AddressInfo).port;
    const udp = dgram.createSocket("udp4");
    const bound = await new Promise<boolean>((resolve) => {
      udp.once("error", () => resolve(false));
      udp.bind(port, "127.0.0.1", () => resolve(true));
    });
    if (bound) return { udp, tcp, port };
    udp.close();
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (attempt >= 20) throw new Error("no port free for both UDP and TCP in 20 tries");
  }
}

t.test("a port in use: the responder keeps trying and serves once it is free", async (t) => {
  // The responder serves UDP and TCP on one port: the test holds both, so the port it frees is
  // free for both (a UDP port taken alone had its TCP twin held by some connection of a parallel
  // test now and then, and the responder, rightly, never bound).
  const { udp: blocker, tcp: tcpBlocker, port } = await holdUdpAndTcp();
  const source = new FakeSource();
  source.doc = { version: 1, directory: directoryWith() };
  const { lines, log } = capturingLogger();
  const dns = new HostDns({ source, key: "k", address: "127.0.0.1", port, ensureAddress: false, upstreams: [], log });
  dns.start();
  t.teardown(() => dns.stop());
  await waitFor(() => lines.find((l) => l.msg === "dns responder not started; retrying"), { what: "the bind failure logged" });
  await dns.settled();
  t.equal(dns.version, 1, "the document is read while the port is busy");
  await new Promise<void>((resolve) => blocker.close(() => resolve()));
  await new Promise<void>((resolve) => tcpBlocker.close(() => resolve()));
  // The responder retries with a doubling back-off: on a loaded machine several attempts fail
  // before the port is freed, so the next one may be due seconds away (the log says when).
  const retries = lines.filter((l) => l.msg === "dns responder not started; retrying");
  const nextRetryMs = Number(retries[retries.length - 1]?.retryInMs ?? 0);
  await waitFor(() => dns.port === port, { what: `the responder bound after the port was freed (last retry due in ${nextRetryMs} ms)`, timeoutMs: nextRetryMs + 5_000 });
  t.same(await cacheIps(port), [ip.redis1], "and serves the document read meanwhile");
  await dns.stop();
  const again = dgram.createSocket("udp4");
  await new Promise<void>((resolve, reject) => { again.once("error", reject); again.bind(port, "127.0.0.1", () => resolve()); });
  again.close();
  t.pass("stop() released the port");
});

t.test("DROVER_DNS_LISTEN", async (t) => {
  t.same(dnsListenFromEnv({}), { address: "169.254.169.250", port: 53 }, "default: the link-local address, port 53");
  t.equal(dnsListenFromEnv({ DROVER_DNS_LISTEN: "off" }), "off");
  t.same(dnsListenFromEnv({ DROVER_DNS_LISTEN: "127.0.0.1:5353" }), { address: "127.0.0.1", port: 5353 });
  t.throws(() => dnsListenFromEnv({ DROVER_DNS_LISTEN: "localhost" }), /DROVER_DNS_LISTEN/, "a bad value names the variable");
});
