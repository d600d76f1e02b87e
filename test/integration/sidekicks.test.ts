import Docker from "dockerode";
import t from "tap";
import { labForTest, type Lab } from "../lab";
import { ControlPlane } from "../support/control-plane";
import { waitFor } from "../support/wait";

// Issue 13, sidekicks: a service imported from compose files with io.rancher.sidekicks runs a
// sidekick beside every instance, in its network namespace (it reaches the primary on
// localhost, and DNS answers its own name), scaled with it, replaced with it on an upgrade,
// and moved with it when its host is lost.
const DOCKER_COMPOSE = `version: '2'
services:
  web:
    image: local/busybox
    command: ["sh", "-c", "echo web-$VERSION > /tmp/index.html && exec httpd -f -p 8080 -h /tmp"]
    environment: {VERSION: "1"}
    labels:
      io.rancher.sidekicks: probe
  probe:
    image: local/busybox
    command: ["sh", "-c", "while true; do wget -qO- http://localhost:8080/ > /tmp/got.new 2>/dev/null && mv /tmp/got.new /tmp/got; sleep 1; done"]
    network_mode: container:web
`;

interface Box { host: string; name: string; id: string; labels: Record<string, string> }

async function boxes(lab: Lab, hosts = lab.hosts): Promise<Box[]> {
  const out: Box[] = [];
  for (const h of hosts) {
    for (const c of await new Docker({ socketPath: h.dockerSocket }).listContainers({ filters: { label: ["io.drover.managed=true"] } })) {
      out.push({ host: h.name, name: c.Names[0].slice(1), id: c.Id, labels: c.Labels });
    }
  }
  return out;
}

/** Each running web container with the probe beside it on the same host, once `count` pairs run and every probe has read its primary over localhost. */
async function pairs(lab: Lab, count: number, what: string, hosts = lab.hosts, expect = "web-1") {
  return waitFor(async () => {
    const all = await boxes(lab, hosts);
    const webs = all.filter((b) => /^side-web-\d+$/.test(b.name));
    if (webs.length !== count) return false;
    const out = [];
    for (const w of webs) {
      const probe = all.find((b) => b.name === w.name.replace("side-web-", "side-web-probe-"));
      if (!probe || probe.host !== w.host) return false;
      const host = lab.hosts.find((h) => h.name === w.host)!;
      const got = await host.exec(["docker", "exec", probe.name, "cat", "/tmp/got"]);
      if (got.code !== 0 || got.stdout.trim() !== expect) return false;
      out.push({ web: w, probe });
    }
    return out;
  }, { what, timeoutMs: 90_000 }).catch(async (err) => {
    // Say what was there instead.
    const seen = (await boxes(lab, hosts)).map((b) => `${b.host}:${b.name}`).join(", ");
    throw new Error(`${(err as Error).message}; containers: ${seen}`);
  });
}

t.test("sidekicks: beside every instance, on localhost, scaled, upgraded and moved with it", async (t) => {
  t.setTimeout(480_000);
  const lab = await labForTest(t, { hosts: 3 });
  const { cp, env } = await ControlPlane.forTest(t, lab, { graceMs: 3000, envName: "sidekick-env" });
  const imported = await env.api.ok("POST", `${env.base}/stacks`, { name: "side", dockerCompose: DOCKER_COMPOSE, rancherCompose: "web:\n  scale: 2\n" });
  const web = imported.services.find((s: any) => s.name === "web");
  t.same(imported.services.map((s: any) => s.name), ["web"], "the sidekick is part of web, not a service");

  const two = await pairs(lab, 2, "two web containers, each with its probe reading it on localhost");
  t.equal(two.length, 2, "each instance has its sidekick on its host, reaching it on localhost");
  const dns = await waitFor(async () => {
    const { probe } = two[0];
    const r = await lab.hosts.find((h) => h.name === probe.host)!.exec(["docker", "exec", probe.name, "nslookup", "probe"]);
    return r.code === 0 && /Address( \d)?:\s+10\.42\./.test(r.stdout) && r.stdout;
  }, { what: "the sidekick's own name in DNS", timeoutMs: 30_000 });
  t.ok(dns, "DNS answers the sidekick's own name with an overlay address");

  await env.api.ok("POST", `${env.base}/services/${web.id}?action=scale`, { scale: 3 });
  const three = await pairs(lab, 3, "three pairs after scale 3");
  t.equal(three.length, 3, "the sidekick follows the scale");

  await env.api.ok("PATCH", `${env.base}/services/${web.id}`, { env: { VERSION: "2" } });
  const upgraded = await pairs(lab, 3, "three upgraded pairs", lab.hosts, "web-2");
  const oldProbes = new Set(three.map((p) => p.probe.id));
  t.notOk(upgraded.some((p) => oldProbes.has(p.probe.id)), "every sidekick was replaced with its primary on the upgrade");

  const lost = lab.hosts.find((h) => upgraded.some((p) => p.web.host === h.name))!;
  await cp.killAgent(lost);
  await lost.cutUnderlay();
  const survivors = lab.hosts.filter((h) => h !== lost);
  const moved = await pairs(lab, 3, "three pairs on the surviving hosts", survivors, "web-2");
  t.ok(moved.every((p) => p.web.host !== lost.name && p.probe.host === p.web.host), "after the host loss, the moved instances came up with their sidekicks beside them");
  await lost.restoreUnderlay();
});
