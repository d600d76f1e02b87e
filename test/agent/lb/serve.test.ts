/**
 * The module against real HAProxy 2.6 on loopback: backends are small servers on 127.61.x.y
 * answering with their names; the load balancer binds every address, the test connects to
 * 127.0.0.1. Routing by hostname and path, https with SNI and a default certificate, TLS
 * passthrough by SNI, TCP with PROXY protocol, sticky cookies.
 */
import t from "tap";
import { freePort } from "../../support/free-port";
import { waitFor } from "../../support/wait";
import { startService } from "./support/backends";
import { selfSigned } from "./support/certs";
import { colonHex, exchangeLine, request } from "./support/clients";
import { desiredLb, directory, inst, rule } from "./support/fixtures";
import { harness } from "./support/harness";

const running = (h: ReturnType<typeof harness>, id: string) => () => h.lbs.status()[id]?.state === "running";

t.test("http: requests reach every backend; hostname and path rules pick the service", async (t) => {
  const h = harness(t);
  const web = await startService("web", "127.61.1", 10, 3);
  const api = await startService("api", "127.61.2", 10, 2);
  const www = await startService("www", "127.61.3", 10, 1);
  t.teardown(() => Promise.all([...web, ...api, ...www].map((b) => b.close())));
  const port = await freePort("0.0.0.0");
  const id = "serve-http";
  h.lbs.setDirectory(directory([
    ...web.map((b, i) => inst(`web${i}`, "web", b.ip)),
    ...api.map((b, i) => inst(`api${i}`, "api", b.ip, { healthy: true })),
    ...www.map((b, i) => inst(`www${i}`, "www", b.ip)),
  ]));
  await h.lbs.apply([desiredLb(id, [
    rule(port, "web", web[0].port),
    rule(port, "api", api[0].port, { path: "/api" }),
    rule(port, "www", www[0].port, { hostname: "*.example.com" }),
  ])]);
  t.same(h.lbs.status()[id].state, "running", JSON.stringify(h.lbs.status()[id]));
  t.equal(h.lbs.status()[id].reloads, 0);
  t.same(h.lbs.status()[id].backends[`be_${port}_default`], { web0: "up", web1: "up", web2: "up" });

  const names = new Set<string>();
  for (let i = 0; i < 9; i++) {
    const a = await request(port, { path: "/x" });
    t.equal(a.status, 200);
    names.add(a.name!);
  }
  t.same([...names].sort(), ["web-1", "web-2", "web-3"], "round robin reaches every instance");

  const viaApi = new Set<string>();
  for (let i = 0; i < 4; i++) viaApi.add((await request(port, { path: "/api/users" })).name!);
  t.same([...viaApi].sort(), ["api-1", "api-2"], "path prefix /api");
  t.equal((await request(port, { path: "/apiary" })).name?.startsWith("api"), true, "a prefix match, as Rancher's");
  t.equal((await request(port, { host: "Shop.Example.COM:" + port, path: "/api/x" })).name, "www-1", "hostname rules come before path rules; Host is case-insensitive, port ignored");
  t.match((await request(port, { host: "example.com" })).name, /^web-/, "*.example.com does not match example.com itself");

  const seen = (await request(port, { path: "/h" })).seen!;
  t.equal(seen["x-forwarded-for"], "127.0.0.1");
  t.equal(seen["x-forwarded-proto"], "http");
  t.equal(seen["x-forwarded-port"], String(port));
});

t.test("https: SNI chooses the certificate, unknown or no SNI gets the default; keys never logged", async (t) => {
  const h = harness(t);
  const web = await startService("web", "127.61.4", 10, 1);
  t.teardown(() => Promise.all(web.map((b) => b.close())));
  const a = selfSigned("a.example.com"), b = selfSigned("b.example.com", ["*.b.example.com"]);
  const port = await freePort("0.0.0.0");
  const id = "serve-https";
  h.lbs.setDirectory(directory([inst("w1", "web", web[0].ip)]));
  await h.lbs.apply([desiredLb(id, [rule(port, "web", web[0].port, { protocol: "https" })],
    { certificateIds: ["ca", "cb"], defaultCertificateId: "cb" }, { ca: a, cb: b })]);
  t.equal(h.lbs.status()[id].state, "running", JSON.stringify(h.lbs.status()[id]));

  const viaA = await request(port, { tls: { servername: "a.example.com" } });
  t.equal(viaA.status, 200);
  t.equal(viaA.name, "web-1");
  t.equal(viaA.certFingerprint, colonHex(a.fingerprint), "SNI a.example.com: certificate a");
  t.equal((await request(port, { tls: { servername: "x.b.example.com" } })).certFingerprint, colonHex(b.fingerprint), "wildcard SAN of b");
  t.equal((await request(port, { tls: { servername: "other.test" } })).certFingerprint, colonHex(b.fingerprint), "unknown SNI: the default certificate");
  t.equal((await request(port, { tls: {} })).certFingerprint, colonHex(b.fingerprint), "no SNI: the default certificate");
  t.equal(viaA.seen!["x-forwarded-proto"], "https");

  const logs = h.logLines.join("\n");
  t.notOk(/PRIVATE KEY/.test(logs), "no key material in the log");
  t.notOk(logs.includes(a.key.split("\n")[1]), "not even a line of it");
});

t.test("tls passthrough is routed by SNI without HAProxy ending TLS", async (t) => {
  const h = harness(t);
  const ca = selfSigned("a.example.com"), cd = selfSigned("default.example.com");
  const a = await startService("tlsa", "127.61.5", 10, 1, { kind: "tls", cert: ca });
  const d = await startService("tlsd", "127.61.6", 10, 1, { kind: "tls", cert: cd });
  t.teardown(() => Promise.all([...a, ...d].map((b) => b.close())));
  const port = await freePort("0.0.0.0");
  const id = "serve-tls";
  h.lbs.setDirectory(directory([inst("a1", "tlsa", a[0].ip), inst("d1", "tlsd", d[0].ip)]));
  await h.lbs.apply([desiredLb(id, [
    rule(port, "tlsa", a[0].port, { protocol: "tls", hostname: "A.example.com" }),
    rule(port, "tlsd", d[0].port, { protocol: "tls" }),
  ])]);
  t.equal(h.lbs.status()[id].state, "running", JSON.stringify(h.lbs.status()[id]));
  t.equal(await exchangeLine(port, { tls: { servername: "a.example.com" } }), "tlsa-1 sni=a.example.com", "the backend itself ended TLS and saw the SNI");
  t.equal(await exchangeLine(port, { tls: { servername: "zzz.example.com" } }), "tlsd-1 sni=zzz.example.com", "no matching rule: the default");
});

t.test("tcp with PROXY protocol: the backend learns the client's address", async (t) => {
  const h = harness(t);
  const db = await startService("db", "127.61.7", 10, 2, { kind: "tcp" });
  const plain = await startService("plain", "127.61.8", 10, 1, { kind: "tcp" });
  t.teardown(() => Promise.all([...db, ...plain].map((b) => b.close())));
  const [p1, p2] = [await freePort("0.0.0.0"), await freePort("0.0.0.0")];
  const id = "serve-tcp";
  h.lbs.setDirectory(directory([...db.map((b, i) => inst(`db${i}`, "db", b.ip)), inst("pl", "plain", plain[0].ip)]));
  await h.lbs.apply([desiredLb(id, [
    rule(p1, "db", db[0].port, { protocol: "tcp", proxyProtocol: true }),
    rule(p2, "plain", plain[0].port, { protocol: "tcp" }),
  ])]);
  t.equal(h.lbs.status()[id].state, "running", JSON.stringify(h.lbs.status()[id]));
  const answers = [await exchangeLine(p1), await exchangeLine(p1)];
  t.same(answers.map((x) => x.split(" ")[0]).sort(), ["db-1", "db-2"]);
  for (const x of answers) t.match(x, new RegExp(`^db-\\d PROXY TCP4 127\\.0\\.0\\.1 \\S+ \\d+ ${p1}$`), "PROXY v1 header with the client's address");
  t.equal(await exchangeLine(p2), "plain-1", "no header without proxyProtocol");
});

t.test("stickiness: the inserted cookie keeps a client on one server", async (t) => {
  const h = harness(t);
  const web = await startService("web", "127.61.9", 10, 3);
  t.teardown(() => Promise.all(web.map((b) => b.close())));
  const port = await freePort("0.0.0.0");
  const id = "serve-sticky";
  h.lbs.setDirectory(directory(web.map((b, i) => inst(`w${i}`, "web", b.ip))));
  await h.lbs.apply([desiredLb(id, [rule(port, "web", web[0].port)], { stickiness: { cookie: "DRV" } })]);
  await waitFor(running(h, id), { what: "the sticky load balancer to run" });
  const first = await request(port);
  const setCookie = String(first.headers["set-cookie"] ?? "");
  t.match(setCookie, /^DRV=s\d+;/, "HAProxy inserts the cookie");
  const cookie = setCookie.split(";")[0];
  for (let i = 0; i < 6; i++) {
    const a = await request(port, { headers: { cookie } });
    t.equal(a.name, first.name, `request ${i + 1} with the cookie stays on ${first.name}`);
    t.notOk(a.seen!.cookie, "indirect: the backend never sees the cookie");
  }
});

t.test("with the host's network: connections to servers leave from the overlay gateway address", async (t) => {
  const h = harness(t);
  const web = await startService("web", "127.61.11", 10, 1);
  t.teardown(() => Promise.all(web.map((b) => b.close())));
  const port = await freePort("0.0.0.0");
  const id = "serve-source";
  // Any 127/8 address is local on lo, so it can stand in for the bridge's gateway address.
  const network = { cidr: "127.61.0.0/16", subnet: "127.61.10.0/24", gateway: "127.61.10.1", peers: [], ipsec: { pskId: "p", psk: "lb-test-psk-value" } };
  h.lbs.setDirectory(directory([inst("w", "web", web[0].ip)]));
  await h.lbs.apply([desiredLb(id, [rule(port, "web", web[0].port)])], network);
  const a = await request(port);
  t.equal(a.name, "web-1");
  t.equal(a.remote, "127.61.10.1", "the backend sees the gateway as the source");
  t.notOk(h.logLines.join("\n").includes("lb-test-psk-value"), "the network key is not logged");
});
