import Docker from "dockerode";
import t from "tap";
import { labForTest, type Lab, type LabHost } from "../lab";
import { ControlPlane, type EnvAccess } from "../support/control-plane";
import { waitFor } from "../support/wait";
import { DnsProbe } from "./support/dns-probe-client";

// Issue 9, health checks on three lab hosts: real agents run HTTP checks against busybox
// httpd containers over the overlay (own host over the bridge, another host over IPsec), the
// server combines the verdicts and replaces sick containers per strategy.

interface Instance {
  id: string; name: string; serviceId: string; hostId: string; index: number; ip?: string; state: string;
  healthState?: string; healthReason?: string; attempt?: number; backoffUntil?: string; createdAt: string;
  healthCheckers?: Record<string, { state: string; reason?: string }>;
  status?: { state: string; containerId?: string };
}

/** busybox httpd serving /www with a /healthz that a test can take away. */
const HTTPD = ["sh", "-c", "mkdir -p /www && echo ok > /www/healthz && hostname > /www/index.html && exec httpd -f -p 80 -h /www"];
const CHECK = { port: 80, requestLine: "GET /healthz HTTP/1.0", interval: 1000, responseTimeout: 1000, healthyThreshold: 2, unhealthyThreshold: 2, initializingTimeout: 30000 };
/** The budget for `recreate`: interval × unhealthyThreshold + 5 s. */
const BUDGET_MS = CHECK.interval * CHECK.unhealthyThreshold + 5000;

async function instancesOf(env: EnvAccess, serviceId: string): Promise<Instance[]> {
  const res = await env.api.ok("GET", `${env.base}/instances?serviceId=${serviceId}&limit=1000`);
  return res.data as Instance[];
}

async function allHealthy(env: EnvAccess, serviceId: string, count: number, what: string, timeoutMs = 90_000): Promise<Instance[]> {
  return waitFor(async () => {
    const list = (await instancesOf(env, serviceId)).filter((i) => i.state !== "removing");
    return list.length === count && list.every((i) => i.healthState === "healthy" && i.status?.state === "running") && list;
  }, { what, timeoutMs });
}

async function containerOf(host: LabHost, instanceId: string): Promise<Docker.ContainerInfo | undefined> {
  const docker = new Docker({ socketPath: host.dockerSocket });
  const [c] = await docker.listContainers({ all: true, filters: { label: [`io.drover.instance=${instanceId}`] } });
  return c;
}

async function dockerExec(host: LabHost, instanceId: string, cmd: string[]): Promise<void> {
  const c = await waitFor(() => containerOf(host, instanceId), { what: `container of ${instanceId} on ${host.name}` });
  const r = await host.exec(["docker", "exec", c.Id, ...cmd]);
  if (r.code !== 0) throw new Error(`docker exec ${cmd.join(" ")} on ${host.name}: ${r.stderr}`);
}

t.test("health checks on three lab hosts", async (t) => {
  const lab: Lab = await labForTest(t, { hosts: 3 });
  const { env, hostById } = await ControlPlane.forTest(t, lab, { graceMs: 5000, envName: "health-env" });
  const hostOf = (i: Instance) => hostById.get(i.hostId)!;

  const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "app" });
  const svc = (name: string, extra: Record<string, unknown>) => env.api.ok("POST", `${env.base}/services`, { name, stackId: stack.id, image: "local/busybox", ...extra });
  const web = await svc("web", { command: HTTPD, scale: 3, healthCheck: CHECK });
  const client = await svc("client", { command: ["sleep", "3600"], links: { web: web.id } });

  const healthy = await allHealthy(env, web.id, 3, "3 healthy web instances");
  t.pass(`web healthy on ${healthy.map((i) => hostOf(i).name).join(", ")}`);
  const webSvc = await env.api.ok("GET", `${env.base}/services/${web.id}`);
  t.equal(webSvc.healthState, "healthy", "the service's aggregate is healthy");
  for (const i of healthy) {
    t.equal(Object.keys(i.healthCheckers ?? {}).length, 2, `${i.name} has two checkers`);
    t.ok(i.healthCheckers?.[i.hostId], `${i.name}: one of them is its own host`);
  }

  const [clientInst] = await waitFor(async () => {
    const list = (await instancesOf(env, client.id)).filter((i) => i.status?.state === "running" && i.ip);
    return list.length === 1 && list;
  }, { what: "client running" });
  const clientContainer = await waitFor(() => containerOf(hostOf(clientInst), clientInst.id), { what: "client container" });
  const pid = (await new Docker({ socketPath: hostOf(clientInst).dockerSocket }).getContainer(clientContainer.Id).inspect()).State.Pid;
  const probe = DnsProbe.start(pid);
  t.teardown(() => probe.stop());

  await t.test("a sick container is replaced within interval × unhealthyThreshold + 5 s; DNS lets go of it first", async (t) => {
    const victim = healthy[1];
    const host = hostOf(victim);
    const answers = await waitFor(async () => { const a = await probe.ask("web"); return a.ips.length === 3 && a; }, { what: "3 answers for web" });
    t.ok(answers.ips.includes(victim.ip!), "the victim is answered while healthy");
    const t0 = Date.now();
    await dockerExec(host, victim.id, ["rm", "/www/healthz"]);
    let dnsGoneAt = 0;
    let containerGoneAt = 0;
    await waitFor(async () => {
      if (!dnsGoneAt && !(await probe.ask("web")).ips.includes(victim.ip!)) dnsGoneAt = Date.now();
      if (!containerGoneAt && !(await containerOf(host, victim.id))) containerGoneAt = Date.now();
      return dnsGoneAt > 0 && containerGoneAt > 0;
    }, { what: "the sick container out of DNS and removed", timeoutMs: 30_000 });
    t.comment(`DNS dropped it after ${dnsGoneAt - t0} ms, its container was removed after ${containerGoneAt - t0} ms`);
    t.ok(dnsGoneAt <= containerGoneAt, "DNS stopped answering its address before the container went");
    t.ok(containerGoneAt - t0 <= BUDGET_MS, `replaced within ${BUDGET_MS} ms (${containerGoneAt - t0} ms)`);
    const firstSeen = await waitFor(async () => (await instancesOf(env, web.id)).find((i) => i.index === victim.index && i.id !== victim.id),
      { what: "the replacement's record", timeoutMs: 10_000 });
    t.equal(firstSeen.attempt, 1, "a new instance took its slot: the first replacement in a row");
    const after = await allHealthy(env, web.id, 3, "3 healthy again", 60_000);
    t.ok(after.some((i) => i.id === firstSeen.id), "and turned healthy (which ends the run: no attempt shown)");
    t.comment(`healthy replacement after ${Date.now() - t0} ms`);
    healthy.splice(0, healthy.length, ...after);
  });

  await t.test("a checker cut off from the other hosts recreates nothing", async (t) => {
    // Pick a host whose agent is the second checker of some instance elsewhere, then cut its
    // IPsec traffic to the others (Redis and the server stay reachable: it keeps reporting).
    const list = await instancesOf(env, web.id);
    const remoteOf = (i: Instance) => Object.keys(i.healthCheckers ?? {}).find((h) => h !== i.hostId)!;
    const target = list.find((i) => remoteOf(i))!;
    const checkerHost = hostById.get(remoteOf(target))!;
    const others = lab.hosts.filter((h) => h !== checkerHost);
    const rules = others.flatMap((h) => [["-d", h.underlayIp, "-p", "udp", "--dport", "4500"], ["-d", h.underlayIp, "-p", "udp", "--dport", "500"]]);
    for (const r of rules) await checkerHost.exec(["iptables", "-I", "OUTPUT", ...r, "-j", "DROP"]);
    t.teardown(async () => { for (const r of rules) await checkerHost.exec(["iptables", "-D", "OUTPUT", ...r, "-j", "DROP"]); });
    const ids = list.map((i) => i.id).sort();
    const seen = await waitFor(async () => {
      const now = await instancesOf(env, web.id);
      const cut = now.filter((i) => i.hostId !== remoteOf(target) && i.healthCheckers?.[remoteOf(target)]?.state === "failing");
      return cut.length > 0 && { now, cut };
    }, { what: `${checkerHost.name}'s checker to report failing verdicts`, timeoutMs: 60_000 });
    t.pass(`${checkerHost.name} says failing for ${seen.cut.map((i) => i.name).join(", ")}`);
    t.ok(seen.cut.every((i) => i.healthState === "healthy"), "the server keeps them healthy: their own hosts still see them pass");
    t.same(seen.now.map((i) => i.id).sort(), ids, "no instance was recreated");
    for (const r of rules) await checkerHost.exec(["iptables", "-D", "OUTPUT", ...r, "-j", "DROP"]);
    rules.length = 0;
    await waitFor(async () => (await instancesOf(env, web.id)).every((i) => Object.values(i.healthCheckers ?? {}).every((v) => v.state === "passing")),
      { what: "every checker passing again after the cut", timeoutMs: 60_000 });
    t.same((await instancesOf(env, web.id)).map((i) => i.id).sort(), ids, "still the same instances");
  });

  await t.test("recreateOnQuorum: with 3 of 4 sick and quorum 2 nothing is replaced until a second one recovers", async (t) => {
    const q = await svc("quorum", { command: HTTPD, scale: 4, healthCheck: { ...CHECK, strategy: "recreateOnQuorum", quorum: 2 } });
    const four = await allHealthy(env, q.id, 4, "4 healthy quorum instances");
    const [a, b, c] = four;
    // Together: failures that land within two check intervals are judged together.
    await Promise.all([a, b, c].map((i) => dockerExec(hostOf(i), i.id, ["rm", "/www/healthz"])));
    const held = await waitFor(async () => {
      const s = await env.api.ok("GET", `${env.base}/services/${q.id}`);
      return /1 healthy, quorum 2/.test(s.transitioningMessage ?? "") && s;
    }, { what: "the server to hold back for lack of quorum", timeoutMs: 30_000 });
    t.match(held.transitioningMessage, /not recreated/);
    t.same((await instancesOf(env, q.id)).map((i) => i.id).sort(), four.map((i) => i.id).sort(), "below quorum: all four still there");
    await dockerExec(hostOf(a), a.id, ["sh", "-c", "echo ok > /www/healthz"]);
    await waitFor(async () => {
      const ids = new Set((await instancesOf(env, q.id)).map((i) => i.id));
      return ids.has(a.id) && !ids.has(b.id) && !ids.has(c.id);
    }, { what: "the two still sick replaced once quorum is back", timeoutMs: 60_000 });
    await allHealthy(env, q.id, 4, "4 healthy again");
    await env.api.ok("DELETE", `${env.base}/services/${q.id}`);
  });

  await t.test("a crash-looping image is retried with growing back-off, never a storm", async (t) => {
    const crash = await svc("crash", { command: ["sh", "-c", "exit 1"], scale: 1, healthCheck: { ...CHECK, initializingTimeout: 2000 } });
    const seen = new Map<string, Instance>();
    const third = await waitFor(async () => {
      for (const i of await instancesOf(env, crash.id)) seen.set(i.id, i);
      return [...seen.values()].find((i) => (i.attempt ?? 0) >= 3 && i.backoffUntil);
    }, { what: "a third replacement in a row, held back", timeoutMs: 90_000 });
    const byAttempt = [...seen.values()].filter((i) => i.backoffUntil).sort((x, y) => (x.attempt ?? 0) - (y.attempt ?? 0));
    const waits = byAttempt.map((i) => Date.parse(i.backoffUntil!) - Date.parse(i.createdAt));
    t.same(waits, waits.map((_, k) => 5000 * 2 ** k), `back-off doubles: ${waits.join(", ")} ms`);
    const span = Date.parse(third.createdAt) - Math.min(...[...seen.values()].map((i) => Date.parse(i.createdAt)));
    t.ok(seen.size <= 4, `${seen.size} instances created over ${span} ms`);
    const shown = await env.api.ok("GET", `${env.base}/instances/${third.id}`);
    t.ok(shown.backoffUntil && shown.attempt === third.attempt, "the API shows backoffUntil and the attempt");
    await env.api.ok("DELETE", `${env.base}/services/${crash.id}`);
  });

  await t.test("a dockerd restart under a running agent keeps every instance, health included, and duplicates nothing", async (t) => {
    const before = await allHealthy(env, web.id, 3, "web healthy before");
    const host = hostOf(before[0]);
    await host.stopDockerd();
    await host.startDockerd();
    const after = await allHealthy(env, web.id, 3, "web healthy after the dockerd restart", 90_000);
    t.same(after.map((i) => i.id).sort(), before.map((i) => i.id).sort(), "the same instances");
    for (const h of lab.hosts) {
      const docker = new Docker({ socketPath: h.dockerSocket });
      const all = await docker.listContainers({ all: true, filters: { label: ["io.drover.managed=true"] } });
      const ids = all.map((c) => c.Labels["io.drover.instance"]);
      t.equal(new Set(ids).size, ids.length, `${h.name}: one container per instance`);
    }
  });
});
