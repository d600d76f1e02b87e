import Docker from "dockerode";
import t from "tap";
import type { EnvDnsDocument } from "../../runtime/protocol/dns";
import { DNS_IP } from "../../runtime/protocol/model";
import { makeKeys } from "../../runtime/protocol/keys";
import { labForTest, type Lab, type LabHost } from "../lab";
import { ControlPlane, type EnvAccess } from "../support/control-plane";
import { waitFor } from "../support/wait";
import { DnsProbe, ProbeAnswer } from "./support/dns-probe-client";

// Issue 5, DNS: a server, Redis and an agent per lab host; the server's reconciler writes the
// environment's DNS document and nudges, each agent serves it on 169.254.169.250:53. Queries
// are sent from inside the containers' network namespaces (so from each container's overlay
// address, which is what the responder picks the view by).

interface Instance { id: string; serviceId: string; hostId: string; ip?: string; state: string; status?: { state: string } }

async function instancesOf(env: EnvAccess, serviceId: string): Promise<Instance[]> {
  const res = await env.api.ok("GET", `${env.base}/instances?limit=1000`);
  return (res.data as Instance[]).filter((i) => i.serviceId === serviceId);
}

/** The one running instance of a service, with its address. */
async function runningOne(env: EnvAccess, serviceId: string, what: string, notId?: string): Promise<Instance & { ip: string }> {
  return waitFor(async () => {
    const list = (await instancesOf(env, serviceId)).filter((i) => i.state === "active" && i.status?.state === "running" && i.ip && i.id !== notId);
    return list.length === 1 ? (list[0] as Instance & { ip: string }) : false;
  }, { what, timeoutMs: 60_000 });
}

async function containerOf(host: LabHost, instanceId: string): Promise<Docker.ContainerInspectInfo> {
  const docker = new Docker({ socketPath: host.dockerSocket });
  return waitFor(async () => {
    const [c] = await docker.listContainers({ filters: { label: [`io.drover.instance=${instanceId}`] } });
    return c ? docker.getContainer(c.Id).inspect() : false;
  }, { what: `container of ${instanceId} on ${host.name}` });
}

/** A probe in the instance's container, which must hold the instance's overlay address. */
async function probeFrom(t: { teardown(fn: () => unknown): void; same(...a: unknown[]): void }, host: LabHost, inst: Instance & { ip: string }): Promise<DnsProbe> {
  const info = await containerOf(host, inst.id);
  const own = Object.values(info.NetworkSettings.Networks ?? {}).map((n) => n.IPAddress);
  t.same(own, [inst.ip], `${inst.id}'s container is on the overlay at ${inst.ip}`);
  const probe = DnsProbe.start(info.State.Pid);
  t.teardown(() => probe.stop());
  return probe;
}

const nx = (a: ProbeAnswer) => a.rcode === "NXDOMAIN" && a.ips.length === 0;

async function dnsDocument(cp: ControlPlane, envId: string): Promise<EnvDnsDocument | undefined> {
  const raw = await cp.redis.client().get(makeKeys(cp.keyPrefix).env(envId).dns);
  return raw ? (JSON.parse(raw) as EnvDnsDocument) : undefined;
}

t.test("link-scoped DNS on three lab hosts", async (t) => {
  const lab: Lab = await labForTest(t, { hosts: 3 });
  const roles = ["web", "other", "cache"];
  const { cp, env, hostById } = await ControlPlane.forTest(t, lab, { graceMs: 3000, envName: "dns-env", labels: (i) => ({ role: roles[i] }) });

  await t.test("every host has the DNS address and a responder on it", async (t) => {
    for (const h of lab.hosts) {
      const addr = await waitFor(async () => {
        const r = await h.exec(["ip", "-o", "-4", "addr", "show"]);
        return r.stdout.includes(`inet ${DNS_IP}/32`) && r.stdout;
      }, { what: `${DNS_IP} on ${h.name}` });
      t.ok(addr, `${h.name} holds ${DNS_IP}`);
      const sockets = await waitFor(async () => {
        const r = await h.exec(["ss", "-lnut"]);
        const lines = r.stdout.split("\n").filter((l) => l.includes(`${DNS_IP}:53`));
        return lines.length === 2 && lines;
      }, { what: `UDP and TCP listeners on ${DNS_IP}:53 in ${h.name}` });
      t.equal(sockets.length, 2, `${h.name}: UDP and TCP on ${DNS_IP}:53`);
    }
  });

  const app = await env.api.ok("POST", `${env.base}/stacks`, { name: "app" });
  const wide = await env.api.ok("POST", `${env.base}/stacks`, { name: "wide", stackWideDiscovery: true });
  const svc = (name: string, stackId: string, extra: Record<string, unknown>) => env.api.ok("POST", `${env.base}/services`, {
    name, stackId, image: "local/busybox", command: ["sleep", "3600"], scale: 1, ...extra,
  });
  const cache = await svc("cache", app.id, { labels: { "io.rancher.scheduler.affinity:host_label_soft": "role=cache" } });
  const web = await svc("web", app.id, { links: { db: cache.id }, labels: { "io.rancher.scheduler.affinity:host_label": "role=web" } });
  const other = await svc("other", app.id, { labels: { "io.rancher.scheduler.affinity:host_label": "role=other" } });
  const alpha = await svc("alpha", wide.id, {});
  const beta = await svc("beta", wide.id, {});

  const cacheInst = await runningOne(env, cache.id, "cache running");
  const webInst = await runningOne(env, web.id, "web running");
  const otherInst = await runningOne(env, other.id, "other running");
  const alphaInst = await runningOne(env, alpha.id, "alpha running");
  const betaInst = await runningOne(env, beta.id, "beta running");
  t.equal(hostById.get(cacheInst.hostId)?.name, lab.hosts[2].name, "cache placed on the role=cache host");
  // The server's reconciler writes the document once it has seen the instances running.
  await waitFor(async () => {
    const doc = await dnsDocument(cp, env.id);
    const ids = new Set(doc?.directory.instances.filter((i) => i.running).map((i) => i.id));
    return [cacheInst, webInst, otherInst, alphaInst, betaInst].every((i) => ids.has(i.id));
  }, { what: "every instance running in the dns document", timeoutMs: 30_000 });

  const webProbe = await probeFrom(t, hostById.get(webInst.hostId)!, webInst);

  await t.test("a linked service resolves by name, alias, svc.stack and FQDN", async (t) => {
    for (const name of ["cache", "db", "cache.app", "cache.app.drover.internal", "DB.", "Cache.App.Drover.Internal"]) {
      const a = await waitFor(async () => {
        const r = await webProbe.ask(name);
        return r.ips.length ? r : false;
      }, { what: `web to resolve ${name}` });
      t.same(a.ips, [cacheInst.ip], `${name} → the cache instance`);
      t.equal(a.rcode, "NOERROR");
    }
    t.same((await webProbe.ask("web")).ips, [webInst.ip], "its own service");
    t.same((await webProbe.ask("db", { tcp: true })).ips, [cacheInst.ip], "over TCP too");
    t.ok(nx(await webProbe.ask("other")), "an unlinked service of its own stack: NXDOMAIN");
    t.ok(nx(await webProbe.ask("beta.wide")), "a service of another stack: NXDOMAIN");
    t.same((await webProbe.ask("cache", { type: "AAAA" })).ips, [], "AAAA: no records");

    // What an application does: ask its own resolver (Docker's embedded one on the overlay
    // network, which forwards to 169.254.169.250 from the container's address).
    const host = hostById.get(webInst.hostId)!;
    const name = (await containerOf(host, webInst.id)).Name.replace(/^\//, "");
    const found = await host.exec(["docker", "exec", name, "nslookup", "db"], { timeoutMs: 10_000 });
    t.match(found.stdout, new RegExp(`Address:\\s+${cacheInst.ip.replace(/\./g, "\\.")}\\b`), `nslookup db in ${name} → ${cacheInst.ip}`);
    const hidden = await host.exec(["docker", "exec", name, "nslookup", "other"], { timeoutMs: 10_000 });
    t.match(hidden.stdout + hidden.stderr, /NXDOMAIN/, `nslookup other in ${name}: NXDOMAIN`);
  });

  await t.test("an unlinked service resolves none of them", async (t) => {
    const probe = await probeFrom(t, hostById.get(otherInst.hostId)!, otherInst);
    t.same((await probe.ask("other")).ips, [otherInst.ip], "its own name resolves (the probe works)");
    for (const name of ["cache", "db", "cache.app", "cache.app.drover.internal", "web"]) {
      t.ok(nx(await probe.ask(name)), `${name}: NXDOMAIN`);
    }
  });

  await t.test("stack-wide discovery: every service of the stack, nothing outside it", async (t) => {
    const probe = await probeFrom(t, hostById.get(alphaInst.hostId)!, alphaInst);
    for (const name of ["beta", "beta.wide", "beta.wide.drover.internal"]) t.same((await probe.ask(name)).ips, [betaInst.ip], `${name} → beta`);
    t.same((await probe.ask("alpha")).ips, [alphaInst.ip], "alpha itself");
    for (const name of ["cache", "cache.app", "web"]) t.ok(nx(await probe.ask(name)), `${name} (stack app): NXDOMAIN`);
  });

  await t.test("the name follows the cache instance to another host within a second", async (t) => {
    const from = hostById.get(cacheInst.hostId)!;
    const started = Date.now();
    await env.api.ok("POST", `${env.base}/hosts/${cacheInst.hostId}?action=deactivate`);
    // Each round (a few ms apart): the document as stored, and web's answer. The name has moved
    // once the document lists only the new instance as running; the write time of that
    // document is its nudge's stream id (Redis's clock, the same machine's).
    let version: number | undefined;
    let newIp: string | undefined;
    const seen: ProbeAnswer[] = [];
    const servedAt = await waitFor(async () => {
      if (version === undefined) {
        const doc = await dnsDocument(cp, env.id);
        const running = doc?.directory.instances.filter((i) => i.serviceId === cache.id && i.running) ?? [];
        if (running.length === 1 && running[0].id !== cacheInst.id) {
          version = doc!.version;
          newIp = running[0].ip;
        }
      }
      const a = await webProbe.ask("db");
      seen.push(a);
      return newIp !== undefined && a.ips.length === 1 && a.ips[0] === newIp && Date.now();
    }, { what: "web's answer for db to follow the move", timeoutMs: 60_000, intervalMs: 2, maxIntervalMs: 5 });
    const nudges = await cp.redis.client().xrevrange(makeKeys(cp.keyPrefix).host(env.id, webInst.hostId).nudges, "+", "-", "COUNT", 100);
    const nudge = nudges.find(([, f]) => f.includes("dns") && f[f.indexOf("version") + 1] === String(version));
    t.ok(nudge, `web's host was nudged for document version ${version}`);
    const writtenAt = Number(nudge![0].split("-")[0]);
    const moved = await runningOne(env, cache.id, "the new cache instance", cacheInst.id);
    t.not(moved.hostId, cacheInst.hostId, `moved off ${from.name} to ${hostById.get(moved.hostId)?.name}`);
    t.equal(moved.ip, newIp, "the document's address is the new instance's");
    const lag = servedAt - writtenAt;
    t.comment(`deactivate → new address served: ${servedAt - started} ms; document written → served: ${lag} ms`);
    t.ok(lag < 1000, `served within a second of the server's write (${lag} ms)`);
    t.same((await webProbe.ask("cache.app.drover.internal")).ips, [newIp], "the FQDN too");
    const nxdomains = seen.filter((a) => a.rcode !== "NOERROR").length;
    const empty = seen.filter((a) => a.rcode === "NOERROR" && a.ips.length === 0).length;
    t.equal(nxdomains, 0, `the name never vanished while moving (${seen.length} answers; ${empty} without an address while no instance ran)`);
  });

  await t.test("Redis unreachable from web's host: its agent keeps answering from the last document", async (t) => {
    const host = hostById.get(webInst.hostId)!;
    const cacheNow = (await webProbe.ask("db")).ips;
    const before = (await dnsDocument(cp, env.id))!.version;
    await host.cutUnderlay(); // the host keeps running; Redis and the server are out of its reach
    t.teardown(() => host.restoreUnderlay());
    // The server gives the host up and writes documents the host can no longer read.
    await waitFor(async () => {
      const hosts = (await env.api.ok("GET", `${env.base}/hosts`)).data as { id: string; state: string }[];
      return hosts.find((h) => h.id === webInst.hostId)?.state === "disconnected";
    }, { what: `${host.name} disconnected`, timeoutMs: 30_000 });
    await waitFor(async () => ((await dnsDocument(cp, env.id))?.version ?? 0) > before, { what: "a newer dns document", timeoutMs: 15_000 });
    for (let i = 0; i < 5; i++) t.same((await webProbe.ask("db")).ips, cacheNow, `answer ${i}: still the cache's address`);
    t.ok(nx(await webProbe.ask("other")), "and still NXDOMAIN for what web may not see");
  });
});
