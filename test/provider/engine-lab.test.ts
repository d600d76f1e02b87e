import Docker from "dockerode";
import * as fs from "fs";
import * as path from "path";
import t from "tap";
import { makeKeys } from "../../runtime/protocol/keys";
import { labForTest, type Lab } from "../lab";
import { engineControlPlane } from "./engine-lab-fixture";
import { PulumiWorkspace } from "../support/pulumi-cli";
import { waitFor } from "../support/wait";
import { keysUnder } from "../runtime/store/store-fixture";

// The real engine, offline, against three ssh lab hosts: Environment, 3 Hosts (labels),
// Stack, Service placed by host label. preview, up, no-change preview, a change that
// previews as exactly one update, repair after a container is removed by hand, bad input
// refused at preview, destroy that leaves no container, API record or Redis key behind.
const programDir = path.resolve(__dirname, "../../../test/fixtures/pulumi-drover-lab");

interface Running { host: string; name: string; image: string }

async function webContainers(lab: Lab): Promise<Running[]> {
  const out: Running[] = [];
  for (const h of lab.hosts) {
    const list = await new Docker({ socketPath: h.dockerSocket }).listContainers({ all: true, filters: { label: ["io.drover.managed=true"] } });
    for (const c of list) out.push({ host: h.name, name: c.Names[0].replace(/^\//, ""), image: c.Image });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The drover steps of a `preview --json` that do something, with the inputs they change (old vs new state). */
function changes(previewJson: string): Array<{ op: string; type: string; keys: string[] }> {
  const steps = (JSON.parse(previewJson).steps ?? []) as any[];
  return steps.filter((s) => s.urn.includes("drover:") && s.op !== "same").map((s) => {
    const before = s.oldState?.inputs ?? {};
    const after = s.newState?.inputs ?? {};
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((k) => k !== "__provider" && JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
    return { op: s.op, type: s.urn.split("::")[2], keys };
  });
}

t.test("Environment, ssh Hosts, Stack and Service through the Pulumi engine on lab hosts", async (t) => {
  t.setTimeout(900_000);
  const lab = await labForTest(t, { hosts: 3, sshd: true, name: "engine-lab" });
  const cp = await engineControlPlane(t, lab);

  const root = path.join(lab.runDir, "hosts");
  const zones = ["a", "a", "b"];
  const hosts = lab.hosts.map((h, i) => ({
    name: `node${i + 1}`, address: h.ssh!.host, port: h.ssh!.port, hostKey: h.ssh!.hostPublicKey,
    installDir: path.join(root, h.name, "opt"), stateDir: path.join(root, h.name, "state"), labels: { zone: zones[i] },
  }));
  const sshKey = lab.hosts[0].ssh!.privateKey;
  const ws = new PulumiWorkspace(programDir, `lab-${process.pid}-${Date.now()}`);
  t.teardown(() => ws.cleanup());
  const pulumi = ws.okFor(t);
  await ws.init({ "drover:endpoint": cp.url, envName: "lab-engine", hosts: JSON.stringify(hosts) });
  await pulumi(["config", "set", "--secret", "drover:adminKey", cp.adminKey]);
  // Base64: the CLI takes a value that starts with dashes or spans lines for flags.
  await pulumi(["config", "set", "--secret", "sshKey", Buffer.from(sshKey).toString("base64")]);

  // preview: six creates.
  const preview = changes((await pulumi(["preview", "--json"])).stdout);
  t.same(preview.map((s) => `${s.op} ${s.type}`).sort(),
    ["create drover:Environment", "create drover:Host", "create drover:Host", "create drover:Host", "create drover:Service", "create drover:Stack"].map((s) => s.replace("drover:", "pulumi-nodejs:dynamic/drover:")).sort(),
    "preview plans six creates");

  let started = Date.now();
  await pulumi(["up", "--yes", "--skip-preview"], 600_000);
  t.comment(`up (3 hosts bootstrapped over ssh, service converged) took ${Date.now() - started} ms`);
  const out = JSON.parse((await pulumi(["stack", "output", "--json", "--show-secrets"])).stdout);
  t.same(out.agentServices, ["supervisor", "supervisor", "supervisor"], "lab hosts (no systemd) run the agent under the supervisor");
  const admin = cp.admin();
  const envHosts = (await admin.ok("GET", `/v1/environments/${out.envId}/hosts`)).data as any[];
  t.same(envHosts.map((h) => `${h.name} ${h.state} ${h.labels.zone}`).sort(), ["node1 active a", "node2 active a", "node3 active b"], "three active hosts with their labels");
  let web = await webContainers(lab);
  t.same(web.map((c) => c.host).sort(), [lab.hosts[0].name, lab.hosts[1].name], "two web containers, on the zone=a hosts only");

  const state = (await pulumi(["stack", "export"])).stdout;
  t.notOk(state.includes(sshKey.split("\n")[2]) || state.includes(Buffer.from(sshKey).toString("base64").slice(0, 60)), "the ssh private key is not in plaintext in the state");
  t.notOk(state.includes(out.registrationToken), "the registration token is not in plaintext in the state");
  t.notOk(state.includes(out.apiKey), "the API key is not in plaintext in the state");

  const same = await ws.run(["preview", "--expect-no-changes"]);
  t.equal(same.code, 0, "no changes right after up", { output: same.stdout + same.stderr });

  // A new image and scale: exactly one update, on the service.
  await pulumi(["config", "set", "image", "local/busybox:v2"]);
  await pulumi(["config", "set", "scale", "3"]);
  const change = changes((await pulumi(["preview", "--json"])).stdout);
  // `placement`: where the server's dry run would put the instances (check() adds it for a changed service).
  t.same(change, [{ op: "update", type: "pulumi-nodejs:dynamic/drover:Service", keys: ["image", "placement", "scale"] }], "the change previews as one update of the service");
  started = Date.now();
  await pulumi(["up", "--yes", "--skip-preview"], 300_000);
  t.comment(`up (image and scale change) took ${Date.now() - started} ms`);
  web = await webContainers(lab);
  t.same(web.map((c) => c.image), ["local/busybox:v2", "local/busybox:v2", "local/busybox:v2"], "three containers of the new image");
  t.notOk(web.some((c) => c.host === lab.hosts[2].name), "still none on the zone=b host");

  // A container removed by hand: refresh sees no spurious drift, up (and the agents) repair it.
  const victim = web[0];
  const host = lab.hosts.find((h) => h.name === victim.host)!;
  const rm = await host.exec(["docker", "rm", "-f", victim.name]);
  t.equal(rm.code, 0, `removed ${victim.name} by hand`, { stderr: rm.stderr });
  await pulumi(["refresh", "--yes", "--skip-preview"], 300_000);
  await pulumi(["up", "--yes", "--skip-preview"], 300_000);
  const repaired = await waitFor(async () => {
    const now = await webContainers(lab);
    return now.length === 3 ? now : false;
  }, { what: "three web containers again", timeoutMs: 60_000 });
  t.equal(repaired.length, 3, "three containers again after refresh and up");
  const afterRefresh = await ws.run(["preview", "--expect-no-changes"]);
  t.equal(afterRefresh.code, 0, "no spurious diff after refresh", { output: afterRefresh.stdout + afterRefresh.stderr });

  // Bad input: the preview (and up) fail naming the field; nothing changes.
  const before = JSON.parse((await pulumi(["stack", "export"])).stdout).deployment.resources.length;
  await pulumi(["config", "set", "badHostPort", "70000"]);
  const bad = await ws.run(["preview"]);
  t.not(bad.code, 0, "preview fails");
  t.match(bad.stdout + bad.stderr, /driver\.port: expected a TCP port from 1 to 65535, got 70000/, "naming the field");
  const badUp = await ws.run(["up", "--yes", "--skip-preview"], 300_000);
  t.not(badUp.code, 0, "up fails too");
  await pulumi(["config", "rm", "badHostPort"]);
  const afterBad = JSON.parse((await pulumi(["stack", "export"])).stdout).deployment.resources;
  t.equal(afterBad.length, before, "no resource was added");
  t.notOk(afterBad.some((r: any) => r.urn.endsWith("::bad")), "no 'bad' host in the state");
  t.equal((await ws.run(["preview", "--expect-no-changes"])).code, 0, "and nothing else changed");

  // destroy: no container, API record, agent or Redis key of the environment is left.
  started = Date.now();
  await pulumi(["destroy", "--yes", "--skip-preview"], 600_000);
  t.comment(`destroy took ${Date.now() - started} ms`);
  t.same(await webContainers(lab), [], "no drover container on any host");
  t.equal((await admin.call("GET", `/v1/environments/${out.envId}`)).status, 404, "the API has no such environment");
  const redis = cp.redis.client();
  const tag = makeKeys(cp.keyPrefix).env(out.envId).rev.replace(/:rev$/, "");
  t.same(await keysUnder(redis, `${tag}*`), [], `no Redis key under ${tag}`);
  t.same(await keysUnder(redis, `*${out.envId}*`), [], "no Redis key naming the environment at all");
  for (const h of hosts) {
    t.notOk(fs.existsSync(path.join(h.stateDir, "supervisor.pid")) || fs.existsSync(path.join(h.stateDir, "agent-launch.json")), `${h.name}: agent service uninstalled`);
  }
  await pulumi(["stack", "rm", "--yes"]);
});
