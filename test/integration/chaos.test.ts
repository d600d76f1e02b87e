import Docker from "dockerode";
import t from "tap";
import { spawn } from "child_process";
import type { EnvDnsDocument } from "../../runtime/protocol/dns";
import { makeKeys } from "../../runtime/protocol/keys";
import { labForTest, type LabHost } from "../lab";
import { cmdline, listProcs, nsInode } from "../lab/proc";
import { ControlPlane, type EnvAccess } from "../support/control-plane";
import { freePort } from "../support/free-port";
import { waitFor } from "../support/wait";
import { DnsProbe } from "./support/dns-probe-client";

// Issue 15, reliability suite: a lab (CHAOS_HOSTS hosts, 3 by default; `npm run chaos` runs
// 5) with two servers, a service spread over the hosts and a client container asking DNS all
// the time. Faults are injected one after another; after each the suite waits for the
// environment to be whole again and records: survived, time to heal, DNS questions that got
// no answer, web containers lost (replaced) or duplicated, DNS records lost. The table is
// printed at the end, and each row is an assertion.
//
// Not in this suite (yet), each listed in the table with the reason: Redis primary kill
// (needs Sentinel, another branch), HAProxy kill, a filled disk, clock skew.

const HOSTS = Number(process.env.CHAOS_HOSTS ?? 3);

interface Row { fault: string; survived: boolean | "not run"; healMs?: number; /** Questions with no answer, or an answer without an address. */ dnsUnanswered?: number; lost?: number; duplicated?: number; recordsLost?: number; note?: string }
interface Inst { id: string; serviceId: string; hostId: string; ip?: string; state: string; status?: { state: string } }

t.test(`chaos on ${HOSTS} lab hosts and 2 servers`, async (t) => {
  const lab = await labForTest(t, { hosts: HOSTS });
  const { cp, env, hostById } = await ControlPlane.forTest(t, lab, { graceMs: 8000, envName: "chaos" });
  await cp.startServer("s2", await freePort(lab.gatewayIp));
  // Stack-wide discovery: the client resolves `web` without a link.
  const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "app", stackWideDiscovery: true });
  const svc = (name: string, scale: number) => env.api.ok("POST", `${env.base}/services`, {
    name, stackId: stack.id, image: "local/busybox", command: ["sleep", "3600"], scale,
    labels: { "io.rancher.scheduler.affinity:container_label_soft_ne": "io.rancher.stack_service.name=app/web" },
  });
  const web = await svc("web", HOSTS);
  const client = await svc("client", 1);
  const instances = async (): Promise<Inst[]> => (await env.api.ok("GET", `${env.base}/instances?limit=1000`)).data as Inst[];
  const runningOf = async (serviceId: string) => (await instances()).filter((i) => i.serviceId === serviceId && i.state === "active" && i.status?.state === "running" && i.ip);
  const dnsDoc = async () => JSON.parse((await cp.redis.client().get(makeKeys(cp.keyPrefix).env(env.id).dns)) ?? "null") as EnvDnsDocument | null;
  const webRecords = async () => (await dnsDoc())?.directory.instances.filter((i) => i.serviceId === web.id && i.running).length ?? 0;
  const whole = async () => (await runningOf(web.id)).length === HOSTS && (await runningOf(client.id)).length === 1 && (await webRecords()) === HOSTS;
  await waitFor(whole, { what: "web and client running, in DNS", timeoutMs: 90_000 });

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

  const rows: Row[] = [];
  /** Injects `fault`, waits until whole again, records the row. */
  const inject = async (fault: string, act: () => Promise<void>, opts: { note?: string; alsoWhole?: () => Promise<boolean> } = {}) => {
    const webBefore = new Set((await runningOf(web.id)).map((i) => i.id));
    const recordsBefore = await webRecords();
    const unansweredBefore = unanswered;
    const t0 = Date.now();
    let survived = true;
    try {
      await act();
      await waitFor(async () => (await whole()) && (!opts.alsoWhole || await opts.alsoWhole()), { what: `whole again after ${fault}`, timeoutMs: 90_000 });
    } catch (err) {
      survived = false;
      t.comment(`${fault}: ${(err as Error).message}`);
    }
    const healMs = Date.now() - t0;
    const webAfter = await runningOf(web.id);
    const lost = [...webBefore].filter((id) => !webAfter.some((i) => i.id === id)).length;
    const duplicated = Math.max(0, webAfter.length - HOSTS);
    rows.push({ fault, survived, healMs, dnsUnanswered: unanswered - unansweredBefore, lost, duplicated, recordsLost: Math.max(0, recordsBefore - (await webRecords())), note: opts.note });
  };
  const otherHost = (): LabHost => lab.hosts.find((h) => h !== clientHost)!;

  await inject("agent SIGKILL", async () => {
    await cp.killAgent(clientHost);
    cp.startAgent(clientHost, env);
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
  }, { note: "shorter than the 8 s grace: nothing moves" });
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
  const notRun = (fault: string, note: string) => rows.push({ fault, survived: "not run", note });
  notRun("Redis primary kill", "needs Sentinel: not landed in this branch");
  notRun("HAProxy kill", "not in this suite yet (no load balancer in the workload)");
  notRun("disk filled", "not in this suite yet");
  notRun("clock skew 30 s", "not in this suite yet (a network namespace cannot skew the clock)");

  running = false;
  await asking;
  const cell = (v: unknown) => (v === undefined ? "-" : String(v));
  t.comment(["fault | survived | heal ms | DNS failed (no answer or no address) | lost | duplicated | records lost | note",
    ...rows.map((r) => [r.fault, r.survived === "not run" ? "not run" : r.survived ? "yes" : "NO", r.healMs, r.dnsUnanswered, r.lost, r.duplicated, r.recordsLost, r.note].map(cell).join(" | "))].join("\n"));
  for (const r of rows) {
    if (r.survived === "not run") continue;
    t.ok(r.survived, `${r.fault}: survived (healed in ${r.healMs} ms)`);
    t.equal(r.duplicated, 0, `${r.fault}: no web container duplicated`);
    t.equal(r.recordsLost, 0, `${r.fault}: no DNS record lost`);
    t.equal(r.dnsUnanswered, 0, `${r.fault}: every DNS question answered`);
    if (r.fault !== "dockerd restart") t.equal(r.lost, 0, `${r.fault}: no web container replaced`);
  }
});
