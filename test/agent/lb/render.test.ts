/**
 * The pure config renderer (routing, certificates, slots, text), checked line by line and
 * then by HAProxy itself: every rendered config goes through `haproxy -c`.
 */
import t from "tap";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildConfig, BuildInput } from "../../../agent/lb/instance-config";
import { lbPaths } from "../../../agent/lb/paths";
import { LbSpecError } from "../../../agent/lb/spec-error";
import { writeCertificates, ensureDirs } from "../../../agent/lb/instance-files";
import { selfSigned } from "./support/certs";
import { desiredLb, directory, inst, rule } from "./support/fixtures";

const HAPROXY = "/usr/sbin/haproxy";
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "drover-lb-render-"));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const paths = lbPaths(tmp, "inst1");
ensureDirs(paths);

/** `haproxy -c` on the text (certificates written first): resolves with HAProxy's complaint, "" when accepted. */
function haproxyCheck(built: ReturnType<typeof buildConfig>): Promise<string> {
  writeCertificates(built.certificates);
  const file = path.join(tmp, `check-${Math.random().toString(36).slice(2)}.cfg`);
  fs.writeFileSync(file, built.text);
  return new Promise((resolve) => {
    execFile(HAPROXY, ["-c", "-q", "-f", file], (err, stdout, stderr) => resolve(err ? `${stdout}${stderr}` || String(err) : ""));
  });
}

function build(lb: BuildInput["lb"], more: Partial<BuildInput> = {}) {
  return buildConfig({ lb, paths, ...more });
}

/** The lines of one section (`frontend fe_80`), trimmed. */
function section(text: string, header: string): string[] {
  const blocks = text.split("\n\n");
  const block = blocks.find((b) => b.split("\n").some((l) => l === header));
  if (!block) throw new Error(`no section ${header} in:\n${text}`);
  return block.split("\n").slice(block.split("\n").indexOf(header) + 1).map((l) => l.trim());
}

t.test("http: hostname and path rules in Rancher's order, default backend, forwarded headers", async (t) => {
  const lb = desiredLb("inst1", [
    rule(80, "web", 8080),
    rule(80, "api", 9000, { path: "/api" }),
    rule(80, "www", 8081, { hostname: "www.example.com" }),
    rule(80, "wild", 8082, { hostname: "*.example.com" }),
    rule(80, "apiv2", 9002, { hostname: "WWW.example.com", path: "/api/v2" }),
    rule(80, "apiv2long", 9003, { path: "/api/v2/long" }),
    rule(80, "pre", 8083, { hostname: "example.*" }),
  ]);
  const built = build(lb);
  const nameOf = (svc: string) => built.routing.backends.find((b) => b.targets[0].serviceId === svc)!.name;
  t.match(nameOf("apiv2"), /^be_80_www\.example\.com_api_v2_[0-9a-f]{6}$/, "readable names, a hash where characters were replaced");
  const fe = section(built.text, "frontend fe_80");
  t.same(fe, [
    "mode http",
    "bind :80",
    "option forwardfor",
    "http-request set-header X-Forwarded-Proto http",
    "http-request set-header X-Forwarded-Port 80",
    "http-request set-var(txn.host) req.hdr(host),field(1,:),lower",
    `use_backend ${nameOf("apiv2")} if { var(txn.host) -i -m str www.example.com } { path -m beg /api/v2 }`,
    "use_backend be_80_www.example.com if { var(txn.host) -i -m str www.example.com }",
    `use_backend ${nameOf("wild")} if { var(txn.host) -i -m end .example.com }`,
    `use_backend ${nameOf("pre")} if { var(txn.host) -i -m beg example. }`,
    `use_backend ${nameOf("apiv2long")} if { path -m beg /api/v2/long }`,
    `use_backend ${nameOf("api")} if { path -m beg /api }`,
    "default_backend be_80_default",
  ], "hostname+path, hostname (exact before wildcards), path (longest first), default");
  const be = section(built.text, "backend be_80_default");
  t.same(be.slice(0, 2), ["mode http", "balance roundrobin"]);
  t.equal(be.filter((l) => l.startsWith("server ")).length, 8, "8 slots for a backend without members");
  t.same(be.slice(2, 4), ["retry-on conn-failure empty-response junk-response", "http-request disable-l7-retry if !METH_GET !METH_HEAD"],
    "a GET a dying server never answered goes to another one; other methods are never replayed");
  t.equal(be.find((l) => l.startsWith("server ")), "server s1 0.0.0.0:8080 disabled", "free slots wait in maint");
  t.equal(await haproxyCheck(built), "", "haproxy -c accepts it");
});

t.test("explicit priority comes before Rancher's order; a prioritised default rule stays the default", async (t) => {
  const built = build(desiredLb("inst1", [
    rule(80, "a", 1, { hostname: "a.example.com", path: "/x" }),
    rule(80, "b", 2, { path: "/b", priority: 1 }),
    rule(80, "c", 3, { hostname: "c.example.com", priority: 2 }),
    rule(80, "d", 4, { priority: 1 }),
  ]));
  const uses = section(built.text, "frontend fe_80").filter((l) => l.startsWith("use_backend")).map((l) => l.split(" ")[1]);
  const nameOf = (svc: string) => built.routing.backends.find((b) => b.targets[0].serviceId === svc)!.name;
  t.same(uses, [nameOf("b"), nameOf("c"), nameOf("a")]);
  t.ok(built.text.includes(`default_backend ${nameOf("d")}`));
  t.equal(await haproxyCheck(built), "");
});

t.test("rules with the same port, hostname and path share one backend with both services' servers", async (t) => {
  const dir = directory([inst("w1", "web", "10.42.1.2"), inst("v1", "web2", "10.42.1.3")]);
  const built = build(desiredLb("inst1", [rule(80, "web", 8080), rule(80, "web2", 8081)]), { directory: dir });
  t.equal(built.routing.backends.length, 1);
  const servers = section(built.text, "backend be_80_default").filter((l) => l.startsWith("server "));
  t.same(servers.slice(0, 3), ["server s1 10.42.1.3:8081", "server s2 10.42.1.2:8080", "server s3 0.0.0.0:8080 disabled"]);
  t.equal(await haproxyCheck(built), "");
});

t.test("https: crt-list with the default certificate first, files named by content, X-Forwarded-Proto https", async (t) => {
  const a = selfSigned("a.example.com"), b = selfSigned("b.example.com");
  const lb = desiredLb("inst1", [rule(443, "web", 8080, { protocol: "https" })],
    { certificateIds: ["ca", "cb"], defaultCertificateId: "cb" }, { ca: a, cb: b });
  const built = build(lb);
  const certs = built.certificates!;
  t.equal(certs.files.length, 3, "two bundles and a crt-list");
  t.equal(certs.files[0].certificateId, "cb", "the default certificate comes first");
  t.match(certs.files[0].content, /BEGIN CERTIFICATE[\s\S]*PRIVATE KEY/, "bundle: certificate then key");
  const list = certs.files[2];
  t.equal(list.path, certs.crtList);
  t.same(list.content.trim().split("\n"), [certs.files[0].path, certs.files[1].path]);
  const fe = section(built.text, "frontend fe_443");
  t.equal(fe[1], `bind :443 ssl crt-list ${certs.crtList}`);
  t.ok(fe.includes("http-request set-header X-Forwarded-Proto https"));
  t.notOk(built.text.includes("PRIVATE KEY"), "the config itself holds no key");
  t.equal(await haproxyCheck(built), "");
  for (const f of certs.files) t.equal(fs.statSync(f.path).mode & 0o777, 0o600, `${path.basename(f.path)} is 0600`);

  const rotated = build({ ...lb, certificates: { ca: a, cb: selfSigned("b.example.com") } });
  t.not(rotated.structure, built.structure, "a new certificate is a structural change (reload)");
  t.not(rotated.certificates!.files[0].path, certs.files[0].path, "and a new file, never an overwrite");
});

t.test("tls passthrough routes by SNI; tcp sends PROXY protocol when asked", async (t) => {
  const built = build(desiredLb("inst1", [
    rule(8443, "a", 443, { protocol: "tls", hostname: "a.example.com" }),
    rule(8443, "w", 443, { protocol: "tls", hostname: "*.wild.example.com", proxyProtocol: true }),
    rule(8443, "d", 443, { protocol: "tls" }),
    rule(5432, "db", 5432, { protocol: "tcp", proxyProtocol: true }),
  ]));
  const tls = section(built.text, "frontend fe_8443");
  t.same(tls.slice(0, 4), ["mode tcp", "bind :8443", "tcp-request inspect-delay 5s", "tcp-request content accept if { req_ssl_hello_type 1 }"]);
  t.ok(tls.includes("use_backend be_8443_a.example.com if { req_ssl_sni -i -m str a.example.com }"));
  t.ok(tls.some((l) => /^use_backend be_8443_\S+ if \{ req_ssl_sni -i -m end \.wild\.example\.com \}$/.test(l)));
  t.ok(tls.includes("default_backend be_8443_default"));
  const tcp = section(built.text, "frontend fe_5432");
  t.same(tcp, ["mode tcp", "bind :5432", "default_backend be_5432_default"]);
  t.match(section(built.text, "backend be_5432_default"), ["mode tcp", "balance roundrobin", "server s1 0.0.0.0:5432 send-proxy disabled"]);
  t.notOk(section(built.text, "backend be_8443_default").some((l) => l.includes("send-proxy")));
  t.equal(await haproxyCheck(built), "");
});

t.test("stickiness, timeouts and the overlay source address", async (t) => {
  const dir = directory([inst("w1", "web", "10.42.2.7")]);
  const built = build(desiredLb("inst1", [rule(80, "web", 8080), rule(9000, "db", 5432, { protocol: "tcp" })],
    { stickiness: { cookie: "DROVERSRV" }, timeouts: { connect: 1000, server: 7000 } }),
    { directory: dir, network: { gateway: "10.42.1.1" } });
  const be = section(built.text, "backend be_80_default");
  t.ok(be.includes("cookie DROVERSRV insert indirect nocache"));
  t.ok(be.includes("source 10.42.1.1"));
  t.ok(be.includes("server s1 10.42.2.7:8080 cookie s1"), "each slot has its own stable cookie value");
  t.notOk(section(built.text, "backend be_9000_default").some((l) => l.startsWith("cookie")), "no cookie on a tcp backend");
  const defaults = section(built.text, "defaults");
  t.ok(defaults.includes("timeout connect 1000ms"));
  t.ok(defaults.includes("timeout client 50000ms"), "default client timeout");
  t.ok(defaults.includes("timeout server 7000ms"));
  t.equal(await haproxyCheck(built), "");
});

t.test("membership: slots sized with headroom, states in the config, structure unchanged by membership", async (t) => {
  const members = Array.from({ length: 5 }, (_, i) => inst(`w${i}`, "web", `10.42.1.${10 + i}`));
  members[1].draining = true;
  members[2].healthy = false;
  members[3].running = false;
  const lb = desiredLb("inst1", [rule(80, "web", 8080)]);
  const built = build(lb, { directory: directory(members) });
  t.equal(built.slotCounts.be_80_default, 16, "next power of two >= max(8, 2 x 5)");
  const servers = section(built.text, "backend be_80_default").filter((l) => l.startsWith("server "));
  t.equal(servers.length, 16);
  t.same(servers.slice(0, 3), ["server s1 10.42.1.10:8080", "server s2 10.42.1.14:8080", "server s3 0.0.0.0:8080 disabled"],
    "only instances that take traffic get a slot when starting; draining and unhealthy ones need none");

  const empty = build(lb, { directory: directory([]), slotCounts: built.slotCounts });
  t.equal(empty.structure, built.structure, "membership is not structure");
  t.not(empty.text, built.text);
  const more = build(lb, { directory: directory(Array.from({ length: 17 }, (_, i) => inst(`x${i}`, "web", `10.42.3.${i + 2}`))), slotCounts: built.slotCounts });
  t.same(more.grown, ["be_80_default"], "17 members outgrow 16 slots");
  t.equal(more.slotCounts.be_80_default, 64);
  t.not(more.structure, built.structure, "more slots is a structural change (the one reload membership may cause)");
  t.equal(await haproxyCheck(built), "");
});

t.test("values are quoted so HAProxy reads them back as given", async (t) => {
  const built = build(desiredLb("inst1", [rule(80, "a", 1, { path: "/a#b'c" }), rule(80, "b", 2, { path: "/x{y}$HOME" })]));
  const uses = section(built.text, "frontend fe_80").filter((l) => l.startsWith("use_backend"));
  t.ok(uses.some((u) => u.endsWith(`{ path -m beg "/a#b'c" }`)), "a quote inside: double quotes");
  t.ok(uses.some((u) => u.endsWith("{ path -m beg '/x{y}$HOME' }")), "braces and $: single quotes (no expansion)");
  t.equal(await haproxyCheck(built), "");
});

t.test("bad input: a clear error naming the field", async (t) => {
  const cases: [string, () => unknown, RegExp][] = [
    ["no rules", () => build(desiredLb("inst1", [])), /^portRules: expected at least one port rule/],
    ["bad hostname", () => build(desiredLb("inst1", [rule(80, "a", 1, { hostname: "a b.com" })])), /^portRules\[0\]\.hostname: expected a hostname/],
    ["hostname on tcp", () => build(desiredLb("inst1", [rule(80, "a", 1, { protocol: "tcp", hostname: "a.com" })])), /^portRules\[0\]\.hostname: expected no hostname on a tcp rule/],
    ["path on tls", () => build(desiredLb("inst1", [rule(80, "a", 1, { protocol: "tls", path: "/x" })])), /^portRules\[0\]\.path: expected no path on a tls rule/],
    ["path with a space", () => build(desiredLb("inst1", [rule(80, "a", 1, { path: "/a b" })])), /^portRules\[0\]\.path: expected a path/],
    ["two protocols on a port", () => build(desiredLb("inst1", [rule(80, "a", 1), rule(80, "b", 2, { protocol: "tcp" })])), /^portRules\[1\]\.protocol: expected "http" like portRules\[0\]/],
    ["bad port", () => build(desiredLb("inst1", [rule(0, "a", 1)])), /^portRules\[0\]\.sourcePort: expected a port number/],
    ["proxy protocol on http", () => build(desiredLb("inst1", [rule(80, "a", 1, { proxyProtocol: true })])), /^portRules\[0\]\.proxyProtocol: expected PROXY protocol only/],
    ["bad cookie", () => build(desiredLb("inst1", [rule(80, "a", 1)], { stickiness: { cookie: "a b" } })), /^stickiness\.cookie: expected a cookie name/],
    ["bad timeout", () => build(desiredLb("inst1", [rule(80, "a", 1)], { timeouts: { client: -1 } })), /^timeouts\.client: expected milliseconds/],
    ["https without certificates", () => build(desiredLb("inst1", [rule(443, "a", 1, { protocol: "https" })])), /^certificateIds: expected at least one certificate/],
    ["certificate material missing", () => build(desiredLb("inst1", [rule(443, "a", 1, { protocol: "https" })], { certificateIds: ["c1"] })), /^certificates\.c1: expected the certificate's PEM material/],
    ["key not PEM", () => build(desiredLb("inst1", [rule(443, "a", 1, { protocol: "https" })], { certificateIds: ["c1"] }, { c1: { cert: "-----BEGIN CERTIFICATE-----\nx", key: "secret-stuff" } })), /^certificates\.c1\.key: expected a PEM private key$/],
    ["bad gateway", () => build(desiredLb("inst1", [rule(80, "a", 1)]), { network: { gateway: "nope" } }), /^network\.gateway: expected an IPv4 address/],
  ];
  for (const [what, fn, want] of cases) {
    const err = t.throws(fn, what) as unknown;
    t.ok(err instanceof LbSpecError, `${what}: an LbSpecError`);
    t.match((err as Error).message, want, what);
  }
});
