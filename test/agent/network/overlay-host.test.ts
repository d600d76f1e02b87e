import Docker from "dockerode";
import * as path from "path";
import t from "tap";
import { createOptions } from "../../../agent/docker/container-config";
import type { DesiredInstance } from "../../../runtime/protocol/model";
import { labForTest, type LabHost } from "../../lab";
import { waitFor } from "../../support/wait";
import { execIn as execWithCode } from "./support/docker-exec";
import { labSpec, ManagerDriver } from "./support/driver-client";

const execIn = async (c: Docker.Container, cmd: string[]) => (await execWithCode(c, cmd)).out;

// The agent's NetworkManager driven directly in lab hosts (no server): bridge, rules, route,
// charon and tunnels; joining, rotating, killing charon, leaving, teardown.

async function sh(host: LabHost, cmd: string[]): Promise<string> {
  const r = await host.exec(cmd, { timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(`${cmd.join(" ")} on ${host.name}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Established IKE SA unique ids per connection, from list-sas. */
function ikeIds(sas: any[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const ev of sas) for (const [name, sa] of Object.entries<any>(ev)) if (sa.state === "ESTABLISHED") (out[name] ??= []).push(sa.uniqueid);
  for (const k of Object.keys(out)) out[k].sort();
  return out;
}

function inst(name: string, ip: string, command: string[]): DesiredInstance {
  return { id: name, name, serviceId: "s", stackId: "st", ip, spec: { image: "local/busybox", command, env: {}, ports: [], labels: {}, restartPolicy: { name: "no" } } };
}

async function runContainer(host: LabHost, i: DesiredInstance): Promise<Docker.Container> {
  const docker = new Docker({ socketPath: host.dockerSocket });
  const opts = createOptions(i, { envId: "e", hostId: host.name });
  const c = await docker.createContainer({ ...opts, OpenStdin: true, StopTimeout: 1 });
  await c.start();
  return c;
}

t.test("overlay plumbing and IPsec mesh on lab hosts", async (t) => {
  const lab = await labForTest(t, { hosts: 3 });
  const [h1, h2, h3] = lab.hosts;
  const drivers = lab.hosts.map((h) => new ManagerDriver(h, path.join(h.dir, "drover-agent")));
  const [d1, , d3] = drivers;
  let d2 = drivers[1];

  await t.test("two hosts: bridge, rules, route, address, tunnels up", async (t) => {
    await Promise.all([d1.apply(labSpec(lab.hosts, 1, [1, 2])), d2.apply(labSpec(lab.hosts, 2, [1, 2]))]);
    const s1 = await d1.tunnelsUp(["h2"]);
    await d2.tunnelsUp(["h1"]);
    t.equal(s1.ipsecMode, "libipsec", "this kernel has no ESP: userspace ESP detected");
    t.equal(s1.pskId, "psk-1");
    const nat = await sh(h1, ["iptables", "-t", "nat", "-S", "POSTROUTING"]);
    t.equal(nat.split("\n")[1], "-A POSTROUTING -s 10.42.0.0/16 -d 10.42.0.0/16 -m comment --comment drover -j RETURN", "NAT exemption first");
    t.match(await sh(h1, ["iptables", "-S", "DOCKER-USER"]), /-A DOCKER-USER -s 10.42.0.0\/16 -d 10.42.0.0\/16 -m comment --comment drover -j ACCEPT/);
    t.match(await sh(h1, ["ip", "route", "show", "type", "blackhole"]), /blackhole 10\.42\.0\.0\/16/);
    t.match(await sh(h1, ["ip", "-4", "addr", "show", "dev", "lo"]), /169\.254\.169\.250\/32/);
    const net = await new Docker({ socketPath: h1.dockerSocket }).getNetwork("drover").inspect();
    t.same(net.IPAM?.Config, [{ Subnet: "10.42.1.0/24", Gateway: "10.42.1.1" }]);
  });

  await t.test("applying again changes nothing and duplicates nothing", async (t) => {
    const before = ikeIds((await d1.sas()).sas);
    const changesBefore = d1.statuses.length;
    await d1.apply(labSpec(lab.hosts, 1, [1, 2]));
    const nat = await sh(h1, ["iptables", "-t", "nat", "-S", "POSTROUTING"]);
    t.equal(nat.split("\n").filter((l) => l.includes("--comment drover")).length, 1, "one exemption rule");
    t.same(ikeIds((await d1.sas()).sas), before, "the tunnel was not touched");
    t.same(d1.statuses.slice(changesBefore), [], "no status change reported");
  });

  await t.test("containers on two hosts talk over the tunnel with their own addresses", async (t) => {
    const listener = await runContainer(h1, inst("lsn", "10.42.1.5", ["nc", "-ll", "-p", "5000", "-e", "sh", "-c", "netstat -tn >> /tmp/peer; cat >> /tmp/got"]));
    const sender = await runContainer(h2, inst("snd", "10.42.2.5", ["sleep", "600"]));
    await waitFor(async () => (await execIn(sender, ["sh", "-c", "echo overlay-bytes | nc 10.42.1.5 5000 && echo sent"])).includes("sent"), { what: "connect to 10.42.1.5:5000", timeoutMs: 10_000 });
    const got = await waitFor(async () => (await execIn(listener, ["cat", "/tmp/got"])).includes("overlay-bytes") && execIn(listener, ["cat", "/tmp/peer"]), { what: "bytes at the listener" });
    t.match(got, /(::ffff:)?10\.42\.1\.5:5000\s+(::ffff:)?10\.42\.2\.5:\d+/, "the listener sees the sender's overlay address");
  });

  await t.test("a third host joins without disturbing the first tunnel", async (t) => {
    const before = ikeIds((await d1.sas()).sas)["peer-h2"];
    await Promise.all([d1.apply(labSpec(lab.hosts, 1, [1, 2, 3])), d2.apply(labSpec(lab.hosts, 2, [1, 2, 3])), d3.apply(labSpec(lab.hosts, 3, [1, 2, 3]))]);
    await d1.tunnelsUp(["h2", "h3"]);
    await d2.tunnelsUp(["h1", "h3"]);
    await d3.tunnelsUp(["h1", "h2"]);
    const after = ikeIds((await d1.sas()).sas)["peer-h2"];
    t.ok(before.every((id) => after.includes(id)), `the h1-h2 IKE SAs survived (${before} in ${after})`);
  });

  await t.test("a rotated key is loaded without dropping tunnels", async (t) => {
    const before = ikeIds((await d1.sas()).sas);
    const psk = { pskId: "psk-2", psk: "bmV3LWtleS1uZXcta2V5LW5ldy1rZXktbmV3LWtleQ==" };
    await Promise.all([1, 2, 3].map((i) => drivers[i - 1].apply(labSpec(lab.hosts, i, [1, 2, 3], psk))));
    t.equal(d1.status?.pskId, "psk-2");
    const after = ikeIds((await d1.sas()).sas);
    for (const conn of Object.keys(before)) t.ok(before[conn].every((id) => after[conn]?.includes(id)), `${conn} kept its SAs`);
  });

  await t.test("a killed charon is restarted and its tunnels come back", async (t) => {
    const { pid } = await d1.sas();
    t.ok(pid, "charon pid known");
    process.kill(pid!, "SIGKILL");
    await waitFor(() => d1.statuses.some((s) => s.charon === "down"), { what: "charon reported down", timeoutMs: 5_000 });
    t.match(await sh(h1, ["ip", "route", "show", "type", "blackhole"]), /blackhole 10\.42\.0\.0\/16/, "overlay traffic without a tunnel route meets the blackhole");
    const s = await d1.tunnelsUp(["h2", "h3"], 20_000);
    t.equal(s.charon, "running");
    t.not((await d1.sas()).pid, pid, "a new charon");
  });

  await t.test("an agent restart adopts the running charon: tunnels are not dropped", async (t) => {
    const before = await d2.sas();
    await d2.stop();
    t.doesNotThrow(() => process.kill(before.pid!, 0), "charon outlived the agent");
    d2 = new ManagerDriver(h2, d2.stateDir);
    drivers[1] = d2;
    await d2.apply(labSpec(lab.hosts, 2, [1, 2, 3], { pskId: "psk-2", psk: "bmV3LWtleS1uZXcta2V5LW5ldy1rZXktbmV3LWtleQ==" }));
    await d2.tunnelsUp(["h1", "h3"]);
    const after = await d2.sas();
    t.equal(after.pid, before.pid, "the same charon");
    const was = ikeIds(before.sas), now = ikeIds(after.sas);
    for (const conn of Object.keys(was)) t.ok(was[conn].some((id) => now[conn]?.includes(id)), `${conn}: an IKE SA from before the restart is still up`);
    t.notOk(d2.stderr.some((l) => l.includes("ipsec connection loaded")), "no connection was reloaded (charon would initiate it again)");
    t.ok(d2.stderr.some((l) => l.includes("adopted running charon")), "adopted");
  });

  await t.test("a leaving host's connection is removed", async (t) => {
    await d1.apply(labSpec(lab.hosts, 1, [1, 2]));
    t.same(Object.keys(d1.status!.tunnels), ["h2"]);
    t.notOk(ikeIds((await d1.sas()).sas)["peer-h3"], "no SA to h3 left on h1");
  });

  await t.test("a changed subnet recreates the bridge network", async (t) => {
    await d3.apply({ ...labSpec(lab.hosts, 3, [3]), subnet: "10.42.33.0/24", gateway: "10.42.33.1" });
    const net = await new Docker({ socketPath: h3.dockerSocket }).getNetwork("drover").inspect();
    t.same(net.IPAM?.Config, [{ Subnet: "10.42.33.0/24", Gateway: "10.42.33.1" }]);
    t.match(await sh(h3, ["ip", "-4", "addr", "show", "dev", "drover0"]), /10\.42\.33\.1\/24/);
    t.equal(d3.status?.charon, "not-needed", "no peers: no charon");
  });

  await t.test("teardown removes everything it made", async (t) => {
    const pidBefore = (await d1.sas()).pid!;
    await d1.teardown();
    t.notMatch(await sh(h1, ["iptables", "-t", "nat", "-S", "POSTROUTING"]), /drover/);
    t.notMatch(await sh(h1, ["iptables", "-S", "DOCKER-USER"]), /drover/);
    t.notMatch(await sh(h1, ["ip", "route", "show", "proto", "213"]), /blackhole/);
    t.notMatch(await sh(h1, ["ip", "-4", "addr", "show", "dev", "lo"]), /169\.254\.169\.250/);
    t.notMatch(await sh(h1, ["ip", "-o", "link"]), /drover0/, "bridge gone");
    t.throws(() => process.kill(pidBefore, 0), "charon stopped");
    for (const d of [d2, d3]) await d.teardown();
    t.notMatch(await sh(h2, ["ip", "-o", "link"]), /drover0|ipsec0/, "h2 clean too");
  });
});
