import Docker from "dockerode";
import t from "tap";
import { labForTest, type Lab, type LabHost } from "../lab";
import { ControlPlane, type EnvAccess } from "../support/control-plane";
import { waitFor } from "../support/wait";
import { makeKeys } from "../../runtime/protocol/keys";

// Issue 3 end to end: a server, Redis and an agent per lab host, driven through the API,
// checked in each host's own dockerd.

interface Running { host: string; name: string; id: string; image: string; instance: string; startedAt?: string }

async function droverContainers(lab: Lab): Promise<Running[]> {
  const all: Running[] = [];
  for (const h of lab.hosts) {
    const docker = new Docker({ socketPath: h.dockerSocket });
    const list = await docker.listContainers({ all: false, filters: { label: ["io.drover.managed=true"] } });
    for (const c of list) all.push({ host: h.name, name: c.Names[0].replace(/^\//, ""), id: c.Id, image: c.Image, instance: c.Labels["io.drover.instance"] });
  }
  return all.sort((a, b) => a.name.localeCompare(b.name));
}

const countBy = (items: Running[], prefix: string) => {
  const out: Record<string, number> = {};
  for (const c of items.filter((c) => c.name.startsWith(prefix))) out[c.host] = (out[c.host] ?? 0) + 1;
  return out;
};

async function activeInstances(env: EnvAccess, serviceId: string): Promise<any[]> {
  const res = await env.api.ok("GET", `${env.base}/instances?limit=1000`);
  return res.data.filter((i: any) => i.serviceId === serviceId);
}

/** Waits until the service has exactly `n` active instances and the hosts run exactly those containers. */
async function converged(lab: Lab, env: EnvAccess, serviceId: string, prefix: string, n: number, what: string, timeoutMs = 30_000) {
  return waitFor(async () => {
    const inst = await activeInstances(env, serviceId);
    if (inst.length !== n || !inst.every((i) => i.state === "active")) return false;
    const running = (await droverContainers(lab)).filter((c) => c.name.startsWith(prefix));
    if (running.length !== n) return false;
    const ids = new Set(inst.map((i) => i.id));
    return running.every((c) => ids.has(c.instance)) ? { inst, running } : false;
  }, { what, timeoutMs });
}

t.test("control plane on three lab hosts", async (t) => {
  const lab = await labForTest(t, { hosts: 3 });
  const graceMs = 3000;
  const cp = await ControlPlane.start(lab, { graceMs });
  t.teardown(() => cp.stop());
  await cp.startServer("s1");
  const env = await cp.createEnvironment("lab-env");
  const [h1, h2, h3] = lab.hosts;
  const labels: Record<string, Record<string, string>> = {
    [h1.name]: { zone: "a", region: "eu" }, [h2.name]: { zone: "a", region: "eu" }, [h3.name]: { zone: "b", region: "eu" },
  };
  for (const h of lab.hosts) cp.startAgent(h, env, labels[h.name]);
  const hostIdByName: Record<string, string> = {};
  await waitFor(async () => {
    const hosts = (await env.api.ok("GET", `${env.base}/hosts`)).data as any[];
    if (hosts.length !== 3 || !hosts.every((h) => h.state === "active")) return false;
    for (const h of hosts) hostIdByName[h.name] = h.id;
    return true;
  }, { what: "3 active hosts", timeoutMs: 30_000 });
  t.same(Object.keys(hostIdByName).sort(), lab.hosts.map((h) => h.name).sort(), "each host registered under its hostname");
  const hostsNow = (await env.api.ok("GET", `${env.base}/hosts`)).data as any[];
  t.equal(hostsNow.find((h) => h.name === h1.name).labels.zone, "a", "user labels recorded");
  t.ok(hostsNow[0].labels["io.rancher.host.docker_version"], "agent added its own host labels");
  for (const h of lab.hosts) {
    t.equal(hostsNow.find((x) => x.name === h.name).underlayIp, h.underlayIp, `${h.name}: underlay address found from the route to the server (no --underlay-ip given)`);
  }

  const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "app" });
  const cache = await env.api.ok("POST", `${env.base}/services`, {
    name: "cache", stackId: stack.id, image: "local/busybox", command: ["sleep", "3600"], scale: 1,
    labels: { "io.rancher.scheduler.affinity:host_label": "zone=b" },
  });
  await converged(lab, env, cache.id, "app-cache-", 1, "cache on h3");
  const web = await env.api.ok("POST", `${env.base}/services`, {
    name: "web", stackId: stack.id, image: "local/busybox", command: ["sleep", "3600"], scale: 6,
    labels: {
      "io.rancher.scheduler.affinity:host_label": "region=eu",
      "io.rancher.scheduler.affinity:container_label_ne": "io.rancher.stack_service.name=app/cache",
    },
  });

  await t.test("placement honours host-label affinity and container anti-affinity", async (t) => {
    const { inst } = await converged(lab, env, web.id, "app-web-", 6, "web scale 6 running");
    const all = await droverContainers(lab);
    t.same(countBy(all, "app-cache-"), { [h3.name]: 1 }, "cache on the zone=b host");
    t.same(countBy(all, "app-web-"), { [h1.name]: 3, [h2.name]: 3 }, "web spread over the hosts without cache");
    t.same(inst.map((i) => i.hostId).sort(), all.filter((c) => c.name.startsWith("app-web-")).map((c) => hostIdByName[c.host]).sort(),
      "the API shows the same placement as the dockerds");
  });

  await t.test("scale up and down", async (t) => {
    await env.api.ok("POST", `${env.base}/services/${web.id}?action=scale`, { scale: 8 });
    await converged(lab, env, web.id, "app-web-", 8, "web scale 8");
    t.same(countBy(await droverContainers(lab), "app-web-"), { [h1.name]: 4, [h2.name]: 4 });
    await env.api.ok("POST", `${env.base}/services/${web.id}?action=scale`, { scale: 2 });
    const { running } = await converged(lab, env, web.id, "app-web-", 2, "web scale 2");
    t.same(running.map((c) => c.name).sort(), ["app-web-1", "app-web-2"], "the highest indexes went first");
  });

  await t.test("an image change replaces the containers", async (t) => {
    for (const h of lab.hosts) await h.exec(["docker", "tag", "local/busybox", "local/busybox:v2"]);
    const before = (await droverContainers(lab)).filter((c) => c.name.startsWith("app-web-"));
    await env.api.ok("PATCH", `${env.base}/services/${web.id}`, { image: "local/busybox:v2" });
    const { running } = await waitFor(async () => {
      const r = await converged(lab, env, web.id, "app-web-", 2, "web on v2", 5_000).catch(() => undefined);
      return r && r.running.every((c) => c.image === "local/busybox:v2") ? r : false;
    }, { what: "web replaced by v2", timeoutMs: 30_000 });
    t.ok(running.every((c) => !before.some((b) => b.id === c.id)), "every container is new");
  });

  await t.test("killing an agent leaves its containers; restarting it duplicates nothing", async (t) => {
    const before = await droverContainers(lab);
    await cp.killAgent(h1);
    t.same((await droverContainers(lab)).map((c) => c.id), before.map((c) => c.id), "containers kept running without the agent");
    cp.startAgent(h1, env, labels[h1.name]);
    await waitFor(async () => {
      const hosts = (await env.api.ok("GET", `${env.base}/hosts`)).data as any[];
      return hosts.find((h) => h.name === h1.name)?.state === "active";
    }, { what: "h1 active again", timeoutMs: 15_000 });
    // The restarted agent reports; give it a full reconcile by waiting for its observed report.
    await converged(lab, env, web.id, "app-web-", 2, "still converged after agent restart");
    t.same((await droverContainers(lab)).map((c) => c.id), before.map((c) => c.id), "same containers, none restarted or duplicated");
  });

  await t.test("a container removed by hand comes back", async (t) => {
    const victim = (await droverContainers(lab)).find((c) => c.name.startsWith("app-web-"))!;
    const host = lab.hosts.find((h) => h.name === victim.host)!;
    await host.exec(["docker", "rm", "-f", victim.name]);
    await waitFor(async () => (await droverContainers(lab)).some((c) => c.name === victim.name && c.id !== victim.id),
      { what: `${victim.name} recreated`, timeoutMs: 15_000 });
    const foreign = await host.exec(["docker", "run", "-d", "--name", "not-drovers", "local/busybox", "sleep", "3600"]);
    t.equal(foreign.code, 0);
    await converged(lab, env, web.id, "app-web-", 2, "converged with a foreign container present");
    const still = await host.exec(["docker", "inspect", "-f", "{{.State.Running}}", "not-drovers"]);
    t.equal(still.stdout.trim(), "true", "a container drover did not create is never touched");
    await host.exec(["docker", "rm", "-f", "not-drovers"]);
  });

  await t.test("a dead host's instances move elsewhere after the grace period", async (t) => {
    await env.api.ok("POST", `${env.base}/services/${web.id}?action=scale`, { scale: 4 });
    await converged(lab, env, web.id, "app-web-", 4, "web scale 4");
    const deadHost = h2;
    const started = Date.now();
    await cp.killAgent(deadHost);
    await deadHost.cutUnderlay();
    await waitFor(async () => {
      const hosts = (await env.api.ok("GET", `${env.base}/hosts`)).data as any[];
      return hosts.find((h) => h.name === deadHost.name)?.state === "disconnected";
    }, { what: "h2 disconnected", timeoutMs: graceMs + 15_000 });
    await waitFor(async () => {
      const inst = await activeInstances(env, web.id);
      return inst.length === 4 && inst.every((i) => i.state === "active" && i.hostId === hostIdByName[h1.name]);
    }, { what: "web's instances running on h1 only", timeoutMs: 30_000 });
    t.comment(`host loss to all instances running elsewhere: ${Date.now() - started} ms (grace ${graceMs} ms)`);
    const onH1 = (await droverContainers(lab)).filter((c) => c.host === h1.name && c.name.startsWith("app-web-"));
    t.equal(onH1.length, 4, "h1 runs all four web containers");

    await deadHost.restoreUnderlay();
    cp.startAgent(deadHost, env, labels[deadHost.name]);
    await waitFor(async () => {
      const hosts = (await env.api.ok("GET", `${env.base}/hosts`)).data as any[];
      return hosts.find((h) => h.name === deadHost.name)?.state === "active";
    }, { what: "h2 back", timeoutMs: 20_000 });
    await waitFor(async () => (await droverContainers(lab)).filter((c) => c.host === deadHost.name).length === 0,
      { what: "h2's stale containers removed", timeoutMs: 20_000 });
    t.equal((await droverContainers(lab)).filter((c) => c.name.startsWith("app-web-")).length, 4, "no duplicates after the host returned");
  });

  await t.test("a server restarted in the middle of a deployment converges", async (t) => {
    await env.api.ok("POST", `${env.base}/services/${web.id}?action=scale`, { scale: 7 });
    await cp.stopServer("s1", "SIGKILL");
    await cp.startServer("s1");
    await converged(lab, env, web.id, "app-web-", 7, "web scale 7 after server restart", 40_000);
    t.pass("converged");
  });

  await t.test("two servers: one leader, no double placement", async (t) => {
    const port2 = await (await import("../support/free-port")).freePort(lab.gatewayIp);
    await cp.startServer("s2", port2);
    const leader = await cp.redis.client().get(makeKeys(cp.keyPrefix).env(env.id).leader);
    t.match(leader, /^s[12]:\d+$/, "one server holds the environment's lease");
    await env.api.ok("POST", `${env.base}/services/${web.id}?action=scale`, { scale: 5 });
    await converged(lab, env, web.id, "app-web-", 5, "web scale 5 with two servers");
    await env.api.ok("POST", `${env.base}/services/${web.id}?action=scale`, { scale: 9 });
    const { running } = await converged(lab, env, web.id, "app-web-", 9, "web scale 9 with two servers");
    t.equal(new Set(running.map((c) => c.name)).size, 9, "nine distinct containers, no duplicate names");
    await cp.stopServer("s2", "SIGTERM");
  });

  await t.test("bad input is rejected and changes nothing", async (t) => {
    const before = (await droverContainers(lab)).map((c) => c.id);
    const bad = await env.api.call("POST", `${env.base}/services`, { name: "x", stackId: stack.id, image: "local/busybox", scale: -1 });
    t.equal(bad.status, 422);
    t.equal(bad.body.fieldName, "scale");
    const badLabel = await env.api.call("PATCH", `${env.base}/services/${web.id}`, { labels: { "io.rancher.scheduler.affinity:host_lable": "zone=a" } });
    t.equal(badLabel.status, 422);
    const other = await cp.createEnvironment("other-env");
    const peek = await other.api.call("GET", `${env.base}/services/${web.id}`);
    t.equal(peek.status, 404, "another environment's key sees nothing");
    await converged(lab, env, web.id, "app-web-", 9, "unchanged");
    t.same((await droverContainers(lab)).map((c) => c.id), before, "every container as it was");
  });

  await t.test("removing the service and the stack, then tearing the environment down", async (t) => {
    await env.api.ok("DELETE", `${env.base}/services/${web.id}`);
    await waitFor(async () => (await droverContainers(lab)).filter((c) => c.name.startsWith("app-web-")).length === 0,
      { what: "web containers gone", timeoutMs: 30_000 });
    await env.api.ok("DELETE", `${env.base}/stacks/${stack.id}`);
    await waitFor(async () => (await droverContainers(lab)).length === 0, { what: "all containers gone", timeoutMs: 30_000 });
    await waitFor(async () => (await env.api.call("GET", `${env.base}/stacks/${stack.id}`)).status === 404,
      { what: "stack record gone", timeoutMs: 15_000 });
    await cp.admin().ok("POST", `${env.base}?action=teardown`);
    await waitFor(async () => (await cp.admin().call("GET", env.base)).status === 404, { what: "environment purged", timeoutMs: 30_000 });
    const redis = cp.redis.client();
    const left = await redis.keys(`${cp.keyPrefix}:{${env.id}}*`);
    t.same(left, [], "no Redis key of the environment is left");
    await waitFor(() => [...cp.agents.values()].every((a) => a.exitCode !== null), { what: "agents exited after teardown", timeoutMs: 15_000 });
  });
});
