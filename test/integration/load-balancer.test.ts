import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import * as tls from "tls";
import Docker from "dockerode";
import t from "tap";
import { labForTest, type Lab, type LabHost } from "../lab";
import { makeCert } from "../support/certs";
import { ControlPlane, type EnvAccess } from "../support/control-plane";
import { waitFor } from "../support/wait";

// Issue 10 on four lab hosts: a load balancer on h1 (HAProxy run by h1's agent) in front of
// services on h2 and h3, reached over the IPsec mesh; requests come from the test runner,
// outside every host, to h1's underlay address.

interface Instance { id: string; name: string; hostId: string; state: string; kind?: string; healthState?: string; status?: { state: string } }

/** busybox httpd answering with its container's hostname, with a /healthz a test can take away. */
const HTTPD = (tag: string) => ["sh", "-c", `mkdir -p /www/api && echo ok > /www/healthz && echo "${tag} $(hostname)" > /www/index.html && cp /www/index.html /www/api/index.html && exec httpd -f -p 80 -h /www`];
const CHECK = { port: 80, requestLine: "GET /healthz HTTP/1.0", interval: 1000, responseTimeout: 1000, healthyThreshold: 2, unhealthyThreshold: 2, initializingTimeout: 30000 };

function get(host: string, port: number, opts: { path?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: opts.path ?? "/", headers: opts.headers, agent: false, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: body.trim(), headers: res.headers }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/** An HTTPS request with SNI `servername`: the certificate's CN and the body. */
function getTls(host: string, port: number, servername: string): Promise<{ cn: string; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host, port, servername, rejectUnauthorized: false }, () => {
      const cn = String(sock.getPeerCertificate().subject?.CN ?? "");
      sock.write(`GET / HTTP/1.0\r\nHost: ${servername}\r\n\r\n`);
      let raw = "";
      sock.on("data", (d) => { raw += d.toString(); });
      sock.on("end", () => resolve({ cn, body: raw.split("\r\n\r\n").slice(1).join("").trim() }));
    });
    sock.setTimeout(5000, () => sock.destroy(new Error("timeout")));
    sock.on("error", reject);
  });
}

/** Plain HTTP over a raw TCP connection (the tcp-mode rule). */
function getRaw(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port }, () => sock.write("GET / HTTP/1.0\r\n\r\n"));
    let raw = "";
    sock.setTimeout(5000, () => sock.destroy(new Error("timeout")));
    sock.on("data", (d) => { raw += d.toString(); });
    sock.on("end", () => resolve(raw.split("\r\n\r\n").slice(1).join("").trim()));
    sock.on("error", reject);
  });
}

/** The container hostnames answering through the load balancer over `n` requests. */
async function backendsSeen(host: string, port: number, n: number, opts: { path?: string; headers?: Record<string, string> } = {}): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await get(host, port, opts);
    if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 100)}`);
    seen.add(r.body);
  }
  return seen;
}

async function instancesOf(env: EnvAccess, ownerId: string): Promise<Instance[]> {
  return (await env.api.ok("GET", `${env.base}/instances?serviceId=${ownerId}&limit=1000`)).data as Instance[];
}

t.test("load balancers served by HAProxy on four lab hosts", async (t) => {
  const lab: Lab = await labForTest(t, { hosts: 4 });
  const cp = await ControlPlane.start(lab, { graceMs: 4000 });
  t.teardown(() => cp.stop());
  await cp.startServer("s1");
  const env = await cp.createEnvironment("lb-env");
  const [h1, h2, h3, h4] = lab.hosts;
  cp.startAgent(h1, env, { role: "edge" });
  cp.startAgent(h2, env, { role: "app" });
  cp.startAgent(h3, env, { role: "app" });
  const hostById = new Map<string, LabHost>();
  const activeHosts = async (n: number) => { for (const [id, h] of await cp.activeHosts(env, n)) hostById.set(id, h); };
  await activeHosts(3);
  const edge = h1.underlayIp;

  const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "app" });
  const onApp = { "io.rancher.scheduler.affinity:host_label": "role=app" };
  const web = await env.api.ok("POST", `${env.base}/services`, { name: "web", stackId: stack.id, image: "local/busybox", command: HTTPD("web"), scale: 4, labels: onApp, healthCheck: CHECK });
  const api = await env.api.ok("POST", `${env.base}/services`, { name: "api", stackId: stack.id, image: "local/busybox", command: HTTPD("api"), scale: 1, labels: onApp });
  const certA = makeCert({ cn: "a.example.com" });
  const certB = makeCert({ cn: "b.example.com" });
  const ca = await env.api.ok("POST", `${env.base}/certificates`, { name: "a", ...certA });
  const cb = await env.api.ok("POST", `${env.base}/certificates`, { name: "b", ...certB });
  const lb = await env.api.ok("POST", `${env.base}/loadbalancers`, {
    stackId: stack.id, name: "edge", scale: 1, labels: { "io.rancher.scheduler.affinity:host_label": "role=edge" },
    certificateIds: [ca.id, cb.id], defaultCertificateId: ca.id, drainTimeoutMillis: 1000,
    portRules: [
      { sourcePort: 8080, protocol: "http", targetServiceId: web.id, targetPort: 80 },
      { sourcePort: 8080, protocol: "http", path: "/api", targetServiceId: api.id, targetPort: 80 },
      { sourcePort: 8080, protocol: "http", hostname: "api.example.com", targetServiceId: api.id, targetPort: 80 },
      { sourcePort: 8443, protocol: "https", targetServiceId: web.id, targetPort: 80 },
      { sourcePort: 9000, protocol: "tcp", targetServiceId: web.id, targetPort: 80 },
    ],
  });
  const served = await waitFor(async () => {
    const got = await env.api.ok("GET", `${env.base}/loadbalancers/${lb.id}`);
    return got.served === true && got.transitioning === "no" && got;
  }, { what: "the load balancer served", timeoutMs: 90_000 });
  t.equal(hostById.get(served.instances[0].hostId)?.name, h1.name, "its HAProxy runs on the edge host");
  await waitFor(async () => (await instancesOf(env, web.id)).filter((i) => i.healthState === "healthy").length === 4, { what: "4 healthy web instances", timeoutMs: 90_000 });

  await t.test("requests through h1 reach every web instance on h2 and h3 over the mesh", async (t) => {
    const seen = await waitFor(async () => { const s = await backendsSeen(edge, 8080, 24).catch(() => new Set<string>()); return s.size === 4 && s; },
      { what: "all 4 web instances answering through the load balancer", timeoutMs: 30_000 });
    t.equal(seen.size, 4, `answers from ${[...seen].join(", ")}`);
    t.ok([...seen].every((b) => b.startsWith("web ")));
    const got = await env.api.ok("GET", `${env.base}/loadbalancers/${lb.id}`);
    const haproxy = got.instances[0].haproxy;
    t.equal(haproxy?.state, "running", "the API shows the HAProxy's state");
    const servers = Object.values(haproxy?.backends ?? {}).flatMap((b: any) => Object.values(b));
    t.ok(servers.filter((s) => s === "up").length >= 4, `and its backends' servers (${servers.join(", ")})`);
  });

  await t.test("path and hostname rules route to another service", async (t) => {
    t.match((await get(edge, 8080, { path: "/api/" })).body, /^api /, "/api goes to api");
    t.match((await get(edge, 8080, { headers: { Host: "api.example.com" } })).body, /^api /, "Host api.example.com goes to api");
    t.match((await get(edge, 8080, { headers: { Host: "www.example.com" } })).body, /^web /, "anything else to web");
  });

  await t.test("https with SNI picking the certificate, and tcp mode", async (t) => {
    const a = await getTls(edge, 8443, "a.example.com");
    t.equal(a.cn, "a.example.com");
    t.match(a.body, /^web /);
    t.equal((await getTls(edge, 8443, "b.example.com")).cn, "b.example.com", "SNI picks the second certificate");
    t.equal((await getTls(edge, 8443, "other.example.com")).cn, "a.example.com", "unknown names get the default one");
    t.match(await getRaw(edge, 9000), /^web /, "tcp mode passes HTTP through");
  });

  await t.test("scale up and down follow without a reload", async (t) => {
    const reloads = (s: any) => (s.instances as any[]).reduce((n: number, i: any) => n + (i.haproxy?.reloads ?? 0), 0);
    // Settled: the last rule change's reload is counted before the membership changes start.
    const before = await waitFor(async () => {
      const s = await env.api.ok("GET", `${env.base}/loadbalancers/${lb.id}`);
      return s.transitioning === "no" && s.instances.every((i: any) => i.haproxy?.state === "running") && s;
    }, { what: "the load balancer settled" });
    await env.api.ok("POST", `${env.base}/services/${web.id}?action=scale`, { scale: 6 });
    await waitFor(async () => { const s = await backendsSeen(edge, 8080, 36).catch(() => new Set()); return s.size === 6; }, { what: "6 backends", timeoutMs: 60_000 });
    await env.api.ok("POST", `${env.base}/services/${web.id}?action=scale`, { scale: 2 });
    await waitFor(async () => { const s = await backendsSeen(edge, 8080, 16).catch(() => new Set()); return s.size === 2; }, { what: "2 backends", timeoutMs: 60_000 });
    const after = await env.api.ok("GET", `${env.base}/loadbalancers/${lb.id}`);
    t.equal(reloads(after), reloads(before), `no HAProxy reload for membership (${reloads(after)})`);
  });

  await t.test("rotating a certificate reloads HAProxy without a failed request", async (t) => {
    const fresh = makeCert({ cn: "a.example.com", org: "rotated" });
    let failures = 0;
    let requests = 0;
    let loading = true;
    const load = (async () => {
      while (loading) {
        try {
          const r = await getTls(edge, 8443, "a.example.com");
          if (!r.body.startsWith("web ")) failures++;
        } catch {
          failures++;
        }
        requests++;
      }
    })();
    await env.api.ok("PUT", `${env.base}/certificates/${ca.id}`, { name: "a", ...fresh });
    await waitFor(async () => {
      const sock = tls.connect({ host: edge, port: 8443, servername: "a.example.com", rejectUnauthorized: false });
      const cert = await new Promise<tls.PeerCertificate>((resolve, reject) => { sock.once("secureConnect", () => resolve(sock.getPeerCertificate())); sock.once("error", reject); });
      sock.destroy();
      return cert.subject?.O === "rotated";
    }, { what: "the rotated certificate served", timeoutMs: 30_000 });
    loading = false;
    await load;
    t.equal(failures, 0, `no failed request out of ${requests} across the reload`);
  });

  await t.test("stickiness keeps a client on one backend", async (t) => {
    const current = await env.api.ok("GET", `${env.base}/loadbalancers/${lb.id}`);
    await env.api.ok("PATCH", `${env.base}/loadbalancers/${lb.id}`, { stickiness: { cookie: "DROVERID" } });
    const first = await waitFor(async () => {
      const r = await get(edge, 8080);
      const cookie = String(r.headers["set-cookie"] ?? "").match(/DROVERID=[^;]+/)?.[0];
      return cookie ? { cookie, body: r.body } : undefined;
    }, { what: "a sticky cookie", timeoutMs: 30_000 });
    const seen = await backendsSeen(edge, 8080, 12, { headers: { Cookie: first.cookie } });
    t.same([...seen], [first.body], "every request with the cookie went to the same instance");
    await env.api.ok("PUT", `${env.base}/loadbalancers/${lb.id}`, current.spec);
    await waitFor(async () => !String((await get(edge, 8080)).headers["set-cookie"] ?? "").includes("DROVERID"), { what: "stickiness off again", timeoutMs: 30_000 });
  });

  await t.test("an instance turning unhealthy leaves the backends", async (t) => {
    const list = (await instancesOf(env, web.id)).filter((i) => i.healthState === "healthy");
    const victim = list[0];
    const host = hostById.get(victim.hostId)!;
    const docker = new Docker({ socketPath: host.dockerSocket });
    const [c] = await docker.listContainers({ filters: { label: [`io.drover.instance=${victim.id}`] } });
    const name = (await docker.getContainer(c.Id).inspect()).Config.Hostname;
    await host.exec(["docker", "exec", c.Id, "rm", "/www/healthz"]);
    await waitFor(async () => !(await backendsSeen(edge, 8080, 12)).has(`web ${name}`), { what: "the sick instance out of the backends", timeoutMs: 30_000 });
    t.pass("no more answers from the sick instance");
    await waitFor(async () => (await backendsSeen(edge, 8080, 12)).size === 2, { what: "its replacement serving", timeoutMs: 60_000 });
  });

  await t.test("a container removed by hand, then a host lost: requests keep being answered", async (t) => {
    const [victim] = await instancesOf(env, web.id);
    const host = hostById.get(victim.hostId)!;
    const docker = new Docker({ socketPath: host.dockerSocket });
    const [c] = await docker.listContainers({ filters: { label: [`io.drover.instance=${victim.id}`] } });
    await docker.getContainer(c.Id).remove({ force: true });
    await waitFor(async () => (await backendsSeen(edge, 8080, 12).catch(() => new Set())).size === 2, { what: "2 backends after a kill", timeoutMs: 60_000 });
    await h3.cutUnderlay();
    t.teardown(() => h3.restoreUnderlay());
    await waitFor(async () => {
      const list = await instancesOf(env, web.id);
      return list.length === 2 && list.every((i) => hostById.get(i.hostId) === h2 && i.healthState === "healthy");
    }, { what: "web moved off the lost host", timeoutMs: 90_000 });
    const seen = await waitFor(async () => { const s = await backendsSeen(edge, 8080, 12).catch(() => new Set<string>()); return s.size === 2 && s; },
      { what: "both instances on h2 answering", timeoutMs: 30_000 });
    t.equal(seen.size, 2);
    await h3.restoreUnderlay();
  });

  await t.test("HAProxy killed comes back by itself", async (t) => {
    const got = await env.api.ok("GET", `${env.base}/loadbalancers/${lb.id}`);
    const inst = got.instances[0];
    const pidFile = path.join(h1.dir, "drover-agent", "lb", inst.id, "haproxy.pid");
    const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
    process.kill(pid, "SIGKILL");
    await waitFor(async () => {
      const now = Number(fs.readFileSync(pidFile, "utf8").trim());
      return now !== pid && (await get(edge, 8080)).status === 200;
    }, { what: "a new HAProxy serving", timeoutMs: 30_000 });
    t.pass("serving again with a new master");
  });

  await t.test("a rule HAProxy cannot apply keeps the old config serving and shows the error", async (t) => {
    // Another process on h1 holds port 7000: the new frontend cannot bind.
    const holder = h1.spawn([process.execPath, "-e", "require('net').createServer().listen(7000, '0.0.0.0')"], { stdio: "ignore" });
    t.teardown(() => holder.kill("SIGKILL"));
    await waitFor(async () => (await h1.exec(["ss", "-ltn"])).stdout.includes("0.0.0.0:7000"), { what: "port 7000 held on h1" });
    const current = await env.api.ok("GET", `${env.base}/loadbalancers/${lb.id}`);
    await env.api.ok("PATCH", `${env.base}/loadbalancers/${lb.id}`, { portRules: [...current.spec.portRules, { sourcePort: 7000, protocol: "http", targetServiceId: web.id, targetPort: 80 }] });
    const failed = await waitFor(async () => {
      const s = await env.api.ok("GET", `${env.base}/loadbalancers/${lb.id}`);
      return s.transitioning === "error" && s;
    }, { what: "the load balancer's error in the API", timeoutMs: 30_000 });
    t.match(failed.transitioningMessage, /7000|bind|address/i, "the error says why");
    t.equal((await get(edge, 8080)).status, 200, "the old config keeps serving");
    holder.kill("SIGKILL");
    await env.api.ok("PATCH", `${env.base}/loadbalancers/${lb.id}`, { portRules: current.spec.portRules });
    await waitFor(async () => (await env.api.ok("GET", `${env.base}/loadbalancers/${lb.id}`)).transitioning === "no", { what: "recovered", timeoutMs: 30_000 });
  });

  await t.test("a global load balancer runs on every host, and on a host that joins", async (t) => {
    const g = await env.api.ok("POST", `${env.base}/loadbalancers`, {
      stackId: stack.id, name: "everywhere", global: true, portRules: [{ sourcePort: 8081, protocol: "http", targetServiceId: web.id, targetPort: 80 }],
    });
    await waitFor(async () => (await instancesOf(env, g.id)).filter((i) => i.state === "active").length === 3, { what: "3 global HAProxies", timeoutMs: 60_000 });
    for (const h of [h1, h2]) t.equal((await get(h.underlayIp, 8081)).status, 200, `served on ${h.name}`);
    cp.startAgent(h4, env, { role: "spare" });
    await activeHosts(4);
    await waitFor(async () => (await instancesOf(env, g.id)).filter((i) => i.state === "active").length === 4, { what: "a 4th global HAProxy", timeoutMs: 60_000 });
    await waitFor(async () => (await get(h4.underlayIp, 8081).catch(() => ({ status: 0 }))).status === 200, { what: "served on the new host", timeoutMs: 30_000 });
    t.pass("the joining host serves it too");
  });
});
