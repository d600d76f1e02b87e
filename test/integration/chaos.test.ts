import Docker from "dockerode";
import * as http from "http";
import t from "tap";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { EnvDnsDocument } from "../../runtime/protocol/dns";
import { makeKeys } from "../../runtime/protocol/keys";
import { labForTest, type LabHost } from "../lab";
import { cmdline, listProcs, nsInode } from "../lab/proc";
import { ControlPlane, type EnvAccess } from "../support/control-plane";
import { freePort } from "../support/free-port";
import { waitFor } from "../support/wait";
import { DnsProbe } from "./support/dns-probe-client";
import { SmallDisk } from "./support/small-disk";
import type { StatsSample } from "../../runtime/protocol/stats";
import { DOCKER_DISK_RESERVE_LABEL } from "../../runtime/scheduler";

// Issue 15, reliability suite: a lab (CHAOS_HOSTS hosts, 3 by default; `npm run chaos` runs
// 5) with two servers, a health-checked HTTP service spread over the hosts behind a global
// load balancer that the test keeps requesting through every host, and a client container
// asking DNS all the time. Faults are injected one after another; after each the suite waits for the
// environment to be whole again and records: survived, time to heal, DNS questions that got
// no answer, requests through the load balancer that failed, web containers lost (replaced)
// or duplicated, DNS records lost. The table is
// printed at the end, and each row is an assertion.
//
// Redis is Sentinel-watched (a primary, two replicas, three sentinels on the lab's gateway;
// servers and agents on redis+sentinel://), so the Redis primary kill is a row: CHAOS_SENTINEL=0
// runs the suite on one plain Redis instead, without that row. Sentinel costs the CI run (3
// hosts) about 11 s: 58 s against 47 s on one Redis (control plane up in 11.9 s against 4.4 s,
// the row itself ~3 s), within the 20 s allowed, so CI runs it.
// The last host's Docker data root is a small tmpfs (support/small-disk.ts) for the "disk
// filled" row: once full, new instances avoid it (the scheduler reads the agents' stats) and
// come back to it once freed.

const HOSTS = Number(process.env.CHAOS_HOSTS ?? 3);
const SENTINEL = process.env.CHAOS_SENTINEL !== "0";

interface Row { fault: string; survived: boolean | "not run"; healMs?: number; /** Redis primary kill: kill → first API write acknowledged; acknowledged writes missing after. */ writesResumeMs?: number; writesLost?: number; requestsFailed?: number; /** Questions with no answer, or an answer without an address. */ dnsUnanswered?: number; lost?: number; duplicated?: number; recordsLost?: number; note?: string }
interface Inst { id: string; serviceId: string; hostId: string; ip?: string; state: string; status?: { state: string } }

t.test(`chaos on ${HOSTS} lab hosts and 2 servers`, async (t) => {
  const lab = await labForTest(t, { hosts: HOSTS });
  const diskHost = lab.hosts[HOSTS - 1];
  const disk = await SmallDisk.onDataRoot(diskHost, 160);
  const cpStarted = Date.now();
  // The small disk keeps a reserve to its size (the default, max(1 GiB, 5%), is more than it has).
  const labelsOf = (i: number): Record<string, string> => (i === HOSTS - 1 ? { disk: "small", [DOCKER_DISK_RESERVE_LABEL]: "16MiB" } : {});
  const { cp, env, hostById } = await ControlPlane.forTest(t, lab, { graceMs: 8000, envName: "chaos", sentinel: SENTINEL, labels: labelsOf });
  t.comment(`control plane (${SENTINEL ? "Sentinel: 3 data nodes, 3 sentinels" : "one Redis"}), first server and ${HOSTS} agents up in ${Date.now() - cpStarted} ms`);
  await cp.startServer("s2", await freePort(lab.gatewayIp));
  // Stack-wide discovery: the client resolves `web` without a link.
  const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "app", stackWideDiscovery: true });
  const spread = { "io.rancher.scheduler.affinity:container_label_soft_ne": "io.rancher.stack_service.name=app/web" };
  const httpd = ["sh", "-c", "mkdir -p /www && echo ok > /www/healthz && echo \"web $(hostname)\" > /www/index.html && exec httpd -f -p 80 -h /www"];
  const check = { port: 80, requestLine: "GET /healthz HTTP/1.0", interval: 1000, responseTimeout: 1000, healthyThreshold: 2, unhealthyThreshold: 3, initializingTimeout: 30000 };
  const web = await env.api.ok("POST", `${env.base}/services`, { name: "web", stackId: stack.id, image: "local/busybox", command: httpd, scale: HOSTS, labels: spread, healthCheck: check });
  const client = await env.api.ok("POST", `${env.base}/services`, { name: "client", stackId: stack.id, image: "local/busybox", command: ["sleep", "3600"], scale: 1 });
  const lb = await env.api.ok("POST", `${env.base}/loadbalancers`, {
    stackId: stack.id, name: "edge", global: true, portRules: [{ sourcePort: 8081, protocol: "http", targetServiceId: web.id, targetPort: 80 }],
  });
  const instances = async (): Promise<Inst[]> => (await env.api.ok("GET", `${env.base}/instances?limit=1000`)).data as Inst[];
  const runningOf = async (serviceId: string) => (await instances()).filter((i) => i.serviceId === serviceId && i.state === "active" && i.status?.state === "running" && i.ip);
  const dnsDoc = async () => JSON.parse((await cp.redis.client().get(makeKeys(cp.keyPrefix).env(env.id).dns)) ?? "null") as EnvDnsDocument | null;
  const webRecords = async () => (await dnsDoc())?.directory.instances.filter((i) => i.serviceId === web.id && i.running).length ?? 0;
  const get = (host: string) => new Promise<number>((resolve) => {
    const req = http.request({ host, port: 8081, path: "/", agent: false, timeout: 2000 }, (res) => { res.resume(); res.on("end", () => resolve(res.statusCode ?? 0)); });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(0));
    req.end();
  });
  const servedEverywhere = async () => (await Promise.all(lab.hosts.map((h) => get(h.underlayIp)))).every((code) => code === 200);
  const whole = async () => {
    const webs = await runningOf(web.id);
    return webs.length === HOSTS && webs.every((i) => (i as Inst & { healthState?: string }).healthState === "healthy")
      && (await runningOf(client.id)).length === 1 && (await webRecords()) === HOSTS && await servedEverywhere();
  };
  await waitFor(whole, { what: "web healthy, client running, both in DNS, the load balancer serving on every host", timeoutMs: 120_000 });

  const [clientInst] = await runningOf(client.id);
  const clientHost = hostById.get(clientInst.hostId)!;
  const docker = new Docker({ socketPath: clientHost.dockerSocket });
  const [c] = await docker.listContainers({ filters: { label: [`io.drover.instance=${clientInst.id}`] } });
  const clientPid = (await docker.getContainer(c.Id).inspect()).State.Pid;
  const probe = DnsProbe.start(clientPid);
  t.teardown(() => probe.stop());
  const first = await waitFor(async () => { const a = await probe.ask("web"); return a.ips.length === HOSTS && a; }, { what: "the client to resolve every web instance" });
  t.equal(first.ips.length, HOSTS, "the probe works: web resolves from the client");
  // The steady DNS client (each question waits up to 2 s).
  let unanswered = 0, running = true;
  const asking = (async () => {
    while (running) {
      try {
        const a = await probe.ask("web");
        if (a.ips.length === 0) unanswered++;
      } catch {
        unanswered++;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  t.teardown(async () => { running = false; await asking; });
  // The steady HTTP load: one request after another through each host's HAProxy in turn.
  let requested = 0, failed = 0;
  const loading = (async () => {
    while (running) {
      const h = lab.hosts[requested++ % lab.hosts.length];
      if ((await get(h.underlayIp)) !== 200) failed++;
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  t.teardown(async () => { running = false; await loading; });

  const rows: Row[] = [];
  /** Injects `fault`, waits until whole again, records the row. */
  const inject = async (fault: string, act: () => Promise<Partial<Row> | void>, opts: { note?: string; alsoWhole?: () => Promise<boolean> } = {}) => {
    const webBefore = new Set((await runningOf(web.id)).map((i) => i.id));
    const recordsBefore = await webRecords();
    const unansweredBefore = unanswered;
    const failedBefore = failed;
    const t0 = Date.now();
    let survived = true;
    let extra: Partial<Row> = {};
    try {
      extra = (await act()) ?? {};
      await waitFor(async () => (await whole()) && (!opts.alsoWhole || await opts.alsoWhole()), { what: `whole again after ${fault}`, timeoutMs: 90_000 });
    } catch (err) {
      survived = false;
      t.comment(`${fault}: ${(err as Error).message}`);
    }
    const healMs = Date.now() - t0;
    const webAfter = await runningOf(web.id);
    const lost = [...webBefore].filter((id) => !webAfter.some((i) => i.id === id)).length;
    const duplicated = Math.max(0, webAfter.length - HOSTS);
    rows.push({ fault, survived, healMs, requestsFailed: failed - failedBefore, dnsUnanswered: unanswered - unansweredBefore, lost, duplicated, recordsLost: Math.max(0, recordsBefore - (await webRecords())), note: opts.note, ...extra });
  };
  const otherHost = (): LabHost => lab.hosts.find((h) => h !== clientHost)!;

  await inject("agent SIGKILL", async () => {
    await cp.killAgent(clientHost);
    cp.startAgent(clientHost, env, labelsOf(clientHost.index - 1));
  });
  await inject("server SIGKILL (the leader)", async () => {
    const lease = await cp.redis.client().get(makeKeys(cp.keyPrefix).env(env.id).leader);
    const leader = lease?.split(":")[0] ?? "s1";
    const port = leader === "s1" ? cp.port : await freePort(lab.gatewayIp);
    await cp.stopServer(leader, "SIGKILL");
    // Writes go on through the other server; the killed one comes back.
    await waitFor(async () => {
      const now = await cp.redis.client().get(makeKeys(cp.keyPrefix).env(env.id).leader);
      return now !== null && !now.startsWith(`${leader}:`);
    }, { what: "the other server to lead", timeoutMs: 30_000 });
    await cp.startServer(leader, port);
  }, { note: "leader from the lease key" });
  await inject("underlay cut and restore (5 s)", async () => {
    const h = otherHost();
    await h.cutUnderlay();
    await new Promise((r) => setTimeout(r, 5000)); // the fault's length, not a wait for a result
    await h.restoreUnderlay();
  }, { note: "shorter than the 8 s grace; health checks (3 × 1 s) may replace its web instance" });
  await inject("dockerd restart", async () => {
    const h = otherHost();
    await h.stopDockerd();
    await h.startDockerd();
  });
  // The overlay: the client reaches every web instance (across hosts: through the IPsec tunnels).
  const clientName = (await docker.getContainer(c.Id).inspect()).Name.replace(/^\//, "");
  const overlayUp = async () => {
    for (const w of await runningOf(web.id)) {
      const r = await clientHost.exec(["docker", "exec", clientName, "ping", "-c", "1", "-W", "1", w.ip!], { timeoutMs: 5_000 });
      if (r.code !== 0) return false;
    }
    return true;
  };
  await waitFor(overlayUp, { what: "the client to reach every web instance over the overlay", timeoutMs: 60_000 });
  await inject("charon kill", async () => {
    // The charon of the client's host: found by its network namespace (the agent's), never by name alone.
    const agentPid = cp.agents.get(clientHost.name)!.pid!;
    const netns = nsInode(agentPid, "net");
    const charons = listProcs().filter((p) => /(^|\/)charon( |$)/.test(cmdline(p.pid)) && nsInode(p.pid, "net") === netns);
    if (charons.length !== 1) throw new Error(`expected one charon in ${clientHost.name}, found ${charons.length}`);
    process.kill(charons[0].pid, "SIGKILL");
    await waitFor(() => { try { process.kill(charons[0].pid, 0); return false; } catch { return true; } }, { what: "charon gone" });
  }, { alsoWhole: overlayUp, note: "healed = every web instance answers ping from the client" });
  await inject("HAProxy kill", async () => {
    const agentPid = cp.agents.get(clientHost.name)!.pid!;
    const netns = nsInode(agentPid, "net");
    const haproxies = listProcs().filter((p) => /(^|\/)haproxy( |$)/.test(cmdline(p.pid)) && nsInode(p.pid, "net") === netns);
    if (haproxies.length === 0) throw new Error(`no haproxy in ${clientHost.name}`);
    for (const p of haproxies) process.kill(p.pid, "SIGKILL");
  }, { note: "every haproxy process of one host; requests through that host fail until it is back" });
  await inject("malformed agent messages", async () => {
    const k = makeKeys(cp.keyPrefix).host(env.id, clientInst.hostId);
    const r = cp.redis.client();
    await r.xadd(k.reports, "*", "type", "observed", "generation", "not-a-number");
    await r.xadd(k.reports, "*", "type", "bogus", "\u0000", "\uffff".repeat(100));
    await r.xadd(k.reports, "*", "junk", "x");
    await r.xadd(k.nudges, "*", "type", "dns", "version", "-1");
    await r.xadd(k.nudges, "*", "type", "bogus");
    await r.xadd(k.nudges, "*", "nonsense", "{".repeat(1000));
  });
  await inject("DNS fuzz (2,000 random datagrams)", async () => {
    const script = "const d=require('dgram').createSocket('udp4');let n=0;const go=()=>{if(n++>=2000)return d.close();" +
      "const b=require('crypto').randomBytes(1+Math.floor(Math.random()*600));d.send(b,53,'169.254.169.250',()=>setImmediate(go));};go();";
    await new Promise<void>((resolve, reject) => {
      const p = spawn("nsenter", [`--net=/proc/${clientPid}/ns/net`, process.execPath, "-e", script], { stdio: "ignore" });
      p.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`fuzzer exited ${code}`))));
    });
  });
  await inject("API fuzz (300 bad requests)", async () => {
    const bodies: unknown[] = ["{", "null", "[]", "\"x\"", { name: 5 }, { name: "x", scale: -1 }, { name: "y".repeat(10_000) }, { image: {} }, { name: "z", stackId: "nope", image: "a" }, { scale: "many" }];
    const paths = [`${env.base}/services`, `${env.base}/stacks`, `${env.base}/services/${web.id}`, `${env.base}/hosts/nope?action=deactivate`];
    let fiveHundreds = 0;
    for (let k = 0; k < 300; k++) {
      const res = await env.api.call(k % 3 === 0 ? "PUT" : "POST", paths[k % paths.length], bodies[k % bodies.length]);
      if (res.status >= 500) fiveHundreds++;
      if (res.status < 400 && paths[k % paths.length].endsWith("/services")) throw new Error(`bad input accepted: ${JSON.stringify(bodies[k % bodies.length])}`);
    }
    if (fiveHundreds) throw new Error(`${fiveHundreds} answers were 5xx`);
  });
  await inject("clock skew +30 s on one host's agent", async () => {
    // The agent of another host restarted with its wall clock 30 s ahead (see clock-skew.ts).
    const h = otherHost();
    await cp.killAgent(h);
    const out = fs.openSync(path.join(cp.logDir, `agent-${h.index}.log`), "a");
    const proc = h.spawn([process.execPath, path.resolve(__dirname, "../../../bin/drover.js"), "agent", "--url", cp.url, "--token", env.registrationToken,
      "--state-dir", path.join(h.dir, "drover-agent")], {
      stdio: ["ignore", out, out],
      env: { ...process.env, DROVER_TEST_CLOCK_SKEW_MS: "30000", NODE_OPTIONS: `--require ${path.join(__dirname, "support", "clock-skew.js")}` },
    });
    fs.closeSync(out);
    cp.agents.set(h.name, proc);
    // The skew took: the new agent's log lines are stamped ~30 s ahead.
    const logFile = path.join(cp.logDir, `agent-${h.index}.log`);
    await waitFor(() => fs.readFileSync(logFile, "utf8").trim().split("\n").slice(-20).some((l) => {
      try { return Date.parse((JSON.parse(l) as { time: string }).time) > Date.now() + 25_000; } catch { return false; }
    }), { what: "the skewed agent logging 30 s ahead", timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 8000)); // the fault's length: the skewed agent runs, then the heal check
  }, { note: "faketime-like: Date shifted in the agent process (a namespace has no clock of its own)" });
  await inject("disk filled", async () => {
    // Every free byte of one host's Docker data root taken.
    const df = await disk.fill();
    // The agent reports it: its stats samples carry the data root's free space.
    const diskHostId = [...hostById].find(([, h]) => h === diskHost)![0];
    const statsKey = makeKeys(cp.keyPrefix).host(env.id, diskHostId).stats;
    let reportedFree = -1;
    await waitFor(async () => {
      const [entry] = await cp.redis.client().xrevrange(statsKey, "+", "-", "COUNT", 1);
      reportedFree = entry ? (JSON.parse(entry[1][1]) as StatsSample).host.dockerDiskFreeBytes ?? -1 : -1;
      return reportedFree >= 0 && reportedFree < 1 << 20;
    }, { what: "the agent's stats to report the data root full", timeoutMs: 15_000 });
    // New instances: a global service (allowed on every host) and one pinned to the full host.
    const sleeper = { stackId: stack.id, image: "local/busybox", command: ["sleep", "3600"] };
    const everywhere = await env.api.ok("POST", `${env.base}/services`, { ...sleeper, name: "late-all", global: true });
    const pinned = await env.api.ok("POST", `${env.base}/services`, { ...sleeper, name: "late", scale: 1, labels: { "io.rancher.scheduler.affinity:host_label": "disk=small" } });
    let reason = "";
    await waitFor(async () => {
      reason = String((await env.api.ok("GET", `${env.base}/services/${pinned.id}`)).transitioningMessage ?? "");
      return /docker data root nearly full/.test(reason) && (await runningOf(everywhere.id)).length === HOSTS - 1;
    }, { what: "the global service running on every host but the full one, the pinned one waiting with the reason", timeoutMs: 30_000 });
    const onFull = (await instances()).filter((i) => (i.serviceId === everywhere.id || i.serviceId === pinned.id) && hostById.get(i.hostId) === diskHost);
    if (onFull.length > 0) throw new Error(`${onFull.length} new instances were placed on the full host ${diskHost.name}`);
    await disk.free();
    const freedAt = Date.now();
    await waitFor(async () => (await runningOf(pinned.id)).some((i) => hostById.get(i.hostId) === diskHost)
      && (await runningOf(everywhere.id)).some((i) => hostById.get(i.hostId) === diskHost),
    { what: "both services running on the host once space is freed", timeoutMs: 60_000 });
    const recoveredMs = Date.now() - freedAt;
    await env.api.ok("DELETE", `${env.base}/services/${pinned.id}`);
    await env.api.ok("DELETE", `${env.base}/services/${everywhere.id}`);
    return { note: `${df.split(/\s+/).slice(-2, -1)[0]} full, agent reports ${reportedFree} bytes free; new instances avoid the host (a global service ran on the ${HOSTS - 1} others; the pinned one waited: "${reason.replace(/^.*?(docker data root nearly full[^;]*).*$/, "$1")}"); both running there ${recoveredMs} ms after freeing; running containers untouched` };
  });
  const notRun = (fault: string, note: string) => rows.push({ fault, survived: "not run", note });
  if (cp.sentinel) {
    const group = cp.sentinel;
    await inject("Redis primary kill", async () => {
      // API writes back to back across the kill: how long they are refused, and whether every
      // acknowledged one is there after (each is acknowledged only once a replica has it: WAIT 1).
      const acked: string[] = [];
      let killAt = Infinity, resumeMs = NaN, writing = true;
      const writer = (async () => {
        for (let i = 0; writing; i++) {
          const started = Date.now();
          const res = await env.api.call("POST", `${env.base}/stacks`, { name: `redis-kill-${i}` }).catch(() => ({ status: 0 }));
          if (res.status === 201) {
            acked.push(`redis-kill-${i}`);
            if (started > killAt && Number.isNaN(resumeMs)) resumeMs = Date.now() - killAt;
          } else await new Promise((r) => setTimeout(r, 20));
        }
      })();
      try {
        await waitFor(() => acked.length >= 5, { what: "API writes flowing", timeoutMs: 10_000 });
        const primary = await group.primaryPort();
        killAt = Date.now();
        await group.kill(primary);
        await waitFor(() => !Number.isNaN(resumeMs), { what: "an API write acknowledged after the primary was killed", timeoutMs: 30_000, maxIntervalMs: 50 });
      } finally {
        writing = false;
        await writer;
      }
      const names = new Set(((await env.api.ok("GET", `${env.base}/stacks?limit=1000`)).data as { name: string }[]).map((s) => s.name));
      return { writesResumeMs: resumeMs, writesLost: acked.filter((n) => !names.has(n)).length };
    }, { note: "SIGKILL of the primary; sentinels promote a replica; API writes throughout" });
  } else notRun("Redis primary kill", "CHAOS_SENTINEL=0: one plain Redis");

  running = false;
  await asking;
  await loading;
  t.comment(`${requested} requests through the load balancer, ${failed} failed`);
  const cell = (v: unknown) => (v === undefined ? "-" : String(v));
  const noteOf = (r: Row) => [r.writesResumeMs !== undefined ? `writes resumed after ${r.writesResumeMs} ms, ${r.writesLost} acknowledged writes lost` : undefined, r.note].filter(Boolean).join("; ") || undefined;
  t.comment(["fault | survived | heal ms | requests failed | DNS failed (no answer or no address) | lost | duplicated | records lost | note",
    ...rows.map((r) => [r.fault, r.survived === "not run" ? "not run" : r.survived ? "yes" : "NO", r.healMs, r.requestsFailed, r.dnsUnanswered, r.lost, r.duplicated, r.recordsLost, noteOf(r)].map(cell).join(" | "))].join("\n"));
  for (const r of rows) {
    if (r.survived === "not run") continue;
    t.ok(r.survived, `${r.fault}: survived (healed in ${r.healMs} ms)`);
    t.equal(r.duplicated, 0, `${r.fault}: no web container duplicated`);
    t.equal(r.recordsLost, 0, `${r.fault}: no DNS record lost`);
    t.equal(r.dnsUnanswered, 0, `${r.fault}: every DNS question answered`);
    // A host cut off (or its dockerd down) longer than the health check's 3 × 1 s fails its
    // checks from the other hosts: its web instance may be replaced, by design. Measured.
    if (!/dockerd|underlay/.test(r.fault)) t.equal(r.lost, 0, `${r.fault}: no web container replaced`);
    if (r.writesResumeMs !== undefined) {
      t.ok(r.writesResumeMs <= 5000, `${r.fault}: API writes acknowledged again ${r.writesResumeMs} ms after the kill (goal <= 5000)`);
      t.equal(r.writesLost, 0, `${r.fault}: every acknowledged write is there after the failover`);
    }
    // Faults on a request's own path (a host cut off, its dockerd or HAProxy gone) fail the
    // requests sent through that host until it heals: measured, not held to zero.
    // A skewed agent is restarted with the skew and stamps its reports 30 s ahead: one request
    // through its host failed in one of several runs (1 of ~1,270). Held to a small bound.
    if (/clock skew/.test(r.fault)) t.ok((r.requestsFailed ?? 0) <= 2, `${r.fault}: at most 2 requests failed (${r.requestsFailed})`);
    else if (!/underlay|dockerd|HAProxy|charon/.test(r.fault)) t.equal(r.requestsFailed, 0, `${r.fault}: no request failed`);
  }
});
