import Docker from "dockerode";
import t from "tap";
import { labForTest, type Lab, type LabHost } from "../lab";
import { ControlPlane, type EnvAccess } from "../support/control-plane";
import { waitFor } from "../support/wait";
import { DnsProbe } from "./support/dns-probe-client";

// Issue 9, rolling upgrades on three lab hosts: a scale-6 service with an HTTP health check
// rolls to a new spec two at a time, starting the new ones first, while a client in another
// container resolves and fetches the service by name in a loop; then a spec whose check
// never passes rolls back by itself.

interface Instance { id: string; name: string; hostId: string; specVersion: number; state: string; healthState?: string; status?: { state: string }; ip?: string }

const page = (version: string) => ["sh", "-c", `mkdir -p /www && echo ok > /www/healthz && echo "${version} $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www`];
const CHECK = { port: 80, requestLine: "GET /healthz HTTP/1.0", interval: 1000, responseTimeout: 1000, healthyThreshold: 2, unhealthyThreshold: 2, initializingTimeout: 8000 };

async function instancesOf(env: EnvAccess, serviceId: string): Promise<Instance[]> {
  return (await env.api.ok("GET", `${env.base}/instances?serviceId=${serviceId}&limit=1000`)).data as Instance[];
}

t.test("rolling upgrades without downtime, and a rollback by itself", async (t) => {
  const lab: Lab = await labForTest(t, { hosts: 3 });
  const { env, hostById } = await ControlPlane.forTest(t, lab, { graceMs: 5000, envName: "upgrade-env" });

  const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "app" });
  const web = await env.api.ok("POST", `${env.base}/services`, {
    name: "web", stackId: stack.id, image: "local/busybox", command: page("v1"), scale: 6, healthCheck: CHECK,
    upgradeStrategy: { batchSize: 2, intervalMillis: 500, startFirst: true },
  });
  const client = await env.api.ok("POST", `${env.base}/services`, { name: "client", stackId: stack.id, image: "local/busybox", command: ["sleep", "3600"], links: { web: web.id } });
  const healthy = (list: Instance[]) => list.filter((i) => i.healthState === "healthy" && i.status?.state === "running");
  await waitFor(async () => healthy(await instancesOf(env, web.id)).length === 6, { what: "6 healthy web instances", timeoutMs: 90_000 });

  // The client: a loop in its own container fetching http://web/ (resolved by drover's DNS each time).
  const [clientInst] = await waitFor(async () => {
    const list = (await instancesOf(env, client.id)).filter((i) => i.status?.state === "running");
    return list.length === 1 && list;
  }, { what: "client running" });
  const clientHost = hostById.get(clientInst.hostId)!;
  const docker = new Docker({ socketPath: clientHost.dockerSocket });
  const [container] = await docker.listContainers({ filters: { label: [`io.drover.instance=${clientInst.id}`] } });
  const exec = (cmd: string[]) => clientHost.exec(["docker", "exec", container.Id, ...cmd]);
  // busybox-static's wget crashes in glibc's static resolver; nslookup asks DNS itself, nc talks HTTP.
  const loop = [
    "touch /tmp/run; while [ -f /tmp/run ]; do",
    "ip=$(nslookup web 2>/dev/null | awk '/^Name:/{n=1} n && /^Address/{print $2; exit}');",
    "r=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 \"$ip\" 80 2>&1);",
    "case \"$r\" in HTTP/1.?\\ 200*) echo \"ok $(echo \"$r\" | tail -1) $ip\";; *) echo \"fail $ip $(echo \"$r\" | head -1)\";; esac;",
    "done > /tmp/log 2>&1",
  ].join(" ");
  await clientHost.exec(["docker", "exec", "-d", container.Id, "sh", "-c", loop]);
  const log = async () => (await exec(["cat", "/tmp/log"])).stdout.split("\n").filter(Boolean);
  await waitFor(async () => (await log()).some((l) => l.startsWith("ok v1")), { what: "the client loop fetching", timeoutMs: 30_000 })
    .catch(async (err) => { t.comment(`client log: ${(await log()).slice(-5).join(" | ")}`); throw err; });

  // DNS from the client's own address, sampled all along: the number of addresses it hands out.
  const probe = DnsProbe.start((await docker.getContainer(container.Id).inspect()).State.Pid);
  t.teardown(() => probe.stop());
  let minAnswers = Infinity;
  let samples = 0;
  let sampleErrors = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        minAnswers = Math.min(minAnswers, (await probe.ask("web")).ips.length);
        samples++;
      } catch {
        sampleErrors++; // a lost datagram: counted, and the sampling goes on
      }
    }
  })();

  await t.test("scale 6, batch 2, startFirst: no failed fetch, never fewer than 6 healthy answers", async (t) => {
    const started = Date.now();
    const up = await env.api.ok("PATCH", `${env.base}/services/${web.id}`, { command: page("v2") });
    t.equal(up.upgrade.state, "upgrading");
    const done = await waitFor(async () => {
      const s = await env.api.ok("GET", `${env.base}/services/${web.id}`);
      return s.upgrade?.state === "upgraded" && s;
    }, { what: "the upgrade to finish", timeoutMs: 180_000 });
    t.comment(`upgraded in ${Date.now() - started} ms`);
    t.same(done.upgrade.instancesByVersion, { 2: 6 }, "six instances on the new version");
    await waitFor(async () => (await log()).slice(-5).every((l) => l.startsWith("ok v2")), { what: "the client to see only v2" });
    const lines = await log();
    const failed = lines.filter((l) => l.startsWith("fail"));
    t.equal(failed.length, 0, `no failed fetch out of ${lines.length}`);
    t.ok(lines.some((l) => l.startsWith("ok v1")) && lines.some((l) => l.startsWith("ok v2")), "the client saw both versions");
    t.ok(minAnswers >= 6, `DNS never handed out fewer than 6 addresses (min ${minAnswers} over ${samples} answers, ${sampleErrors} lost)`);
  });

  await t.test("a spec whose check never passes rolls back by itself, the old version serving throughout", async (t) => {
    const before = (await log()).length;
    const broken = ["sh", "-c", "mkdir -p /www && echo broken > /www/index.html && exec httpd -f -p 80 -h /www"];
    await env.api.ok("PATCH", `${env.base}/services/${web.id}`, { command: broken });
    const back = await waitFor(async () => {
      const s = await env.api.ok("GET", `${env.base}/services/${web.id}`);
      return s.upgrade?.state === "rolled-back" && s;
    }, { what: "the rollback", timeoutMs: 120_000 });
    t.match(back.upgrade.reason, /upgrade to version 3 failed: .*unhealthy/);
    t.same(back.spec.command, page("v2"), "the spec is the last good one again");
    await waitFor(async () => {
      const list = await instancesOf(env, web.id);
      return list.length === 6 && list.every((i) => i.specVersion === 2) && healthy(list).length === 6;
    }, { what: "six healthy v2 instances", timeoutMs: 60_000 });
    const lines = (await log()).slice(before);
    t.equal(lines.filter((l) => l.startsWith("fail")).length, 0, `no failed fetch out of ${lines.length}`);
    t.notOk(lines.some((l) => l.includes("broken")), "the broken version never answered a client");
    t.ok(minAnswers >= 6, `DNS never handed out fewer than 6 addresses (min ${minAnswers})`);
  });

  sampling = false;
  await sampler;
  await exec(["rm", "-f", "/tmp/run"]);
});
