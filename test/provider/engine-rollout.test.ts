import Docker from "dockerode";
import * as fs from "fs";
import * as path from "path";
import t from "tap";
import { serviceProvider } from "../../provider";
import { labForTest, type Lab } from "../lab";
import { engineControlPlane } from "./engine-lab-fixture";
import { PulumiWorkspace } from "../support/pulumi-cli";
import { waitFor } from "../support/wait";

// The real engine, offline, against three ssh lab hosts (zones a, a, b), each scenario of
// issues 14 and 9 as a user meets it: a one-letter scheduling typo refused within seconds
// with nothing touched (at preview by the dry-run placement, at update by the server's 422),
// reverting converges; a rolling upgrade through `pulumi up` that succeeds, and one whose
// check never passes that fails with the rollback's reason, after which the previous program
// converges with no refresh; host labels changed in place, instances moving only where the
// rules require; a wrong ssh key refused at update; a killed agent shown by refresh and
// repaired by up; `pulumi up --replace` of a Host removing the old one first.
const programDir = path.resolve(__dirname, "../../../test/fixtures/pulumi-drover-rollout");

interface Container { host: string; name: string; id: string; image: string }

async function containers(lab: Lab, service: string): Promise<Container[]> {
  const out: Container[] = [];
  for (const h of lab.hosts) {
    const list = await new Docker({ socketPath: h.dockerSocket }).listContainers({ filters: { label: [`io.rancher.stack_service.name=app/${service}`] } });
    for (const c of list) out.push({ host: h.name, name: c.Names[0].replace(/^\//, ""), id: c.Id, image: c.Image });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** A value of `pulumi stack export --show-secrets`, secrets unwrapped (they come as {<sig>, plaintext: JSON}). */
function plain(v: any): any {
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v !== "object" || v === null) return v;
  if (typeof v.plaintext === "string" && "4dabf18193072939515e22adb298388d" in v) return plain(JSON.parse(v.plaintext));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

const readPid = (file: string) => { try { return Number(fs.readFileSync(file, "utf8").trim()) || 0; } catch { return 0; } };

/** The drover steps of a `preview --json` that do something: "op Type name" and the inputs they change. */
function steps(previewJson: string): Array<{ step: string; keys: string[]; newInputs: any }> {
  return ((JSON.parse(previewJson).steps ?? []) as any[]).filter((s) => s.urn.includes("drover:") && s.op !== "same").map((s) => {
    const before = s.oldState?.inputs ?? {};
    const after = s.newState?.inputs ?? {};
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((k) => k !== "__provider" && JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
    return { step: `${s.op} ${s.urn.split("::")[2].split(":").pop()} ${s.urn.split("::").pop()}`, keys, newInputs: after };
  });
}

t.test("rollouts, refusals and repairs through the Pulumi engine on lab hosts", async (t) => {
  t.setTimeout(2_400_000);
  const lab = await labForTest(t, { hosts: 3, sshd: true, name: "engine-rollout" });
  const cp = await engineControlPlane(t, lab);
  const admin = cp.admin();

  const root = path.join(lab.runDir, "hosts");
  const zones = ["a", "a", "b"];
  const hosts = lab.hosts.map((h, i) => ({
    name: `node${i + 1}`, address: h.ssh!.host, port: h.ssh!.port, hostKey: h.ssh!.hostPublicKey,
    installDir: path.join(root, h.name, "opt"), stateDir: path.join(root, h.name, "state"), labels: { zone: zones[i] },
  }));
  const ws = new PulumiWorkspace(programDir, `rollout-${process.pid}-${Date.now()}`);
  t.teardown(() => ws.cleanup());
  const pulumi = ws.okFor(t);
  const timedRun = async (args: string[]) => {
    const started = Date.now();
    const res = await ws.run(args, 600_000);
    return { ...res, ms: Date.now() - started, output: res.stdout + res.stderr };
  };
  const noChanges = async (what: string) => {
    const res = await ws.run(["preview", "--expect-no-changes"]);
    t.equal(res.code, 0, what, { output: (res.stdout + res.stderr).slice(-3000) });
  };
  const outputs = async () => JSON.parse((await pulumi(["stack", "output", "--json", "--show-secrets"])).stdout);
  await ws.init({ "drover:endpoint": cp.url, envName: "rollout", hosts: JSON.stringify(hosts) });
  await pulumi(["config", "set", "--secret", "drover:adminKey", cp.adminKey]);
  await pulumi(["config", "set", "--secret", "sshKey", Buffer.from(lab.hosts[0].ssh!.privateKey).toString("base64")]);

  let started = Date.now();
  await pulumi(["up", "--yes", "--skip-preview"]);
  t.comment(`first up (3 hosts bootstrapped, db and web converged and healthy) took ${Date.now() - started} ms`);
  let out = await outputs();
  const base = `/v1/environments/${out.envId}`;
  t.same([out.dbState, out.webState], ["active", "active"], "both services active");
  t.same(out.webInstances.map((i: any) => [i.state, i.health]), [["running", "healthy"], ["running", "healthy"]], "web's instances output: running and healthy");
  t.ok(out.webInstances.every((i: any) => /^node\d$/.test(i.host) && /^10\.42\./.test(i.ip)), "with host names and overlay addresses", { instances: out.webInstances });
  const dbBefore = await containers(lab, "db");
  t.same(dbBefore.map((c) => c.host).sort(), [lab.hosts[0].name, lab.hosts[1].name], "db on the zone=a hosts");
  await noChanges("no changes right after up");

  await t.test("a one-letter scheduling typo is refused within seconds; nothing is touched; reverting converges", async (t) => {
    // The engine's own cost on this machine now (start, program, providers), to tell it from the refusal's.
    const idle = await timedRun(["preview", "--expect-no-changes"]);
    await pulumi(["config", "set", "dbLabels", JSON.stringify({ zome: "a" })]);
    const preview = await timedRun(["preview"]);
    t.not(preview.code, 0, "preview fails");
    t.match(preview.output, /scheduling: no host can take service db \(the server's dry-run placement\): node1: host_label zome=a not present; node2: host_label zome=a not present; node3: host_label zome=a not present/,
      "with the scheduler's reason per host");
    const up = await timedRun(["up", "--yes", "--skip-preview"]);
    t.not(up.code, 0, "up fails");
    t.match(up.output, /host_label zome=a not present/, "with the same reasons");
    t.comment(`preview refused in ${preview.ms} ms, up in ${up.ms} ms; a no-op preview took ${idle.ms} ms`);
    t.ok(up.ms - idle.ms < 10_000, `up refused within 10 s beyond the engine's own cost (${up.ms} ms, a no-op preview ${idle.ms} ms; was: 5 min)`);

    // The update itself, as the engine would call it were check() skipped: the server's 422.
    const state = JSON.parse((await pulumi(["stack", "export", "--show-secrets"])).stdout).deployment.resources as any[];
    const dbOuts = plain(state.find((r) => r.urn.endsWith("drover:Service::db")).outputs);
    const t0 = Date.now();
    const err: any = await serviceProvider.update(dbOuts.serviceId, dbOuts, { ...dbOuts, scheduling: { hostLabels: { zome: "a" } } }).then(() => undefined, (e: unknown) => e);
    const ms = Date.now() - t0;
    t.ok(err, "update() fails");
    t.match(err?.message, /^scheduling: the server refused the update, nothing was changed: no host can take service db: node1: host_label zome=a not present; node2: .*; node3: /, "naming the input and each host's reason");
    t.ok(ms < 10_000, `within 10 s (${ms} ms)`);
    t.same(await containers(lab, "db"), dbBefore, "db's containers untouched");
    const spec = (await admin.ok("GET", `${base}/services/${out.dbId}`)).spec;
    t.equal(spec.labels["io.rancher.scheduler.affinity:host_label"], "zone=a", "the server kept db's rule");

    await pulumi(["config", "rm", "dbLabels"]);
    await noChanges("the reverted program: no changes, with no refresh");
    await pulumi(["up", "--yes", "--skip-preview"]);
    t.same(await containers(lab, "db"), dbBefore, "and db's containers still the same");
  });

  await t.test("a rolling upgrade through pulumi up, the preview showing where instances go", async (t) => {
    await pulumi(["config", "set", "webImage", "local/busybox:v2"]);
    await pulumi(["config", "set", "webScale", "3"]);
    const change = steps((await pulumi(["preview", "--json"])).stdout);
    t.same(change.map((s) => s.step), ["update Service web"], "one update of web, not a replace");
    t.same(change[0]?.keys.filter((k) => k !== "placement"), ["image", "scale"], "image and scale change");
    const planned = change[0]?.newInputs.placement ?? {};
    t.equal(Object.values(planned).reduce((a: number, b: any) => a + b, 0), 3, `the planned placement holds 3 instances: ${JSON.stringify(planned)}`);
    const diff = await pulumi(["preview", "--diff"]);
    t.match(diff.stdout, /placement/, "preview --diff shows the placement", { output: diff.stdout.slice(-2000) });
    started = Date.now();
    await pulumi(["up", "--yes", "--skip-preview"]);
    t.comment(`rolling upgrade of web (2 → 3 instances, new image, batch 1) took ${Date.now() - started} ms`);
    const web = await containers(lab, "web");
    t.same(web.map((c) => c.image), ["local/busybox:v2", "local/busybox:v2", "local/busybox:v2"], "three containers of the new image when up returns");
    out = await outputs();
    t.equal(out.webState, "active");
    t.same(out.webInstances.map((i: any) => i.health), ["healthy", "healthy", "healthy"], "all healthy");
    const svc = await admin.ok("GET", `${base}/services/${out.webId}`);
    t.equal(svc.upgrade?.state, "upgraded", "the server finished the upgrade");
    await noChanges("no changes after the upgrade");
  });

  await t.test("an upgrade whose check never passes fails up with the rollback's reason; the previous program converges", async (t) => {
    const before = await containers(lab, "web");
    await pulumi(["config", "set", "webPort", "81"]);
    started = Date.now();
    const up = await timedRun(["up", "--yes", "--skip-preview"]);
    t.not(up.code, 0, "up fails");
    t.match(up.output, /service web: the upgrade to version \d+ was rolled back: upgrade to version \d+ failed: instance app-web-\d+ is unhealthy: .*(refused|timeout)/,
      "with the rollback's reason", { output: up.output.slice(-3000) });
    t.comment(`the failed upgrade (check failing, rollback) returned after ${up.ms} ms`);
    const svc = await admin.ok("GET", `${base}/services/${out.webId}`);
    t.equal(svc.upgrade?.state, "rolled-back", "the server rolled back");
    t.notOk(svc.spec.command.join(" ").includes("-p 81"), "the server runs the old spec");
    const after = await containers(lab, "web");
    t.equal(after.length, 3, "three web containers");
    t.ok(after.every((c) => c.image === "local/busybox:v2"), "of the old version");
    t.ok(before.filter((c) => after.some((a) => a.id === c.id)).length >= 2, "most of the old containers never stopped (batch 1)");
    await pulumi(["config", "rm", "webPort"]);
    await noChanges("the previous program: no changes, with no refresh");
    const again = await pulumi(["up", "--yes", "--skip-preview"]);
    t.notMatch(again.stdout, /updated/, "up has nothing to do", { output: again.stdout.slice(-1500) });
    t.equal((await outputs()).webState, "active");
  });

  await t.test("host labels change in place; instances move only where their rules require", async (t) => {
    const hostIds = (await outputs()).hostIds;
    const db = await containers(lab, "db");
    hosts[2].labels = { zone: "a" };
    await pulumi(["config", "set", "hosts", JSON.stringify(hosts)]);
    const change = steps((await pulumi(["preview", "--json"])).stdout);
    t.same(change.map((s) => `${s.step} ${s.keys.join(",")}`), ["update Host node3 labels"], "one in-place update of node3's labels");
    await pulumi(["up", "--yes", "--skip-preview"]);
    t.same((await outputs()).hostIds, hostIds, "the same hosts (nothing replaced)");
    t.match((await admin.ok("GET", `${base}/hosts/${hostIds.node3}`)).labels, { zone: "a", "io.drover.host.hostname": "node3" }, "the server has node3's new label, and its own");
    t.same(await containers(lab, "db"), db, "db stays where it is: its rule still holds everywhere");
    const launchFile = JSON.parse(fs.readFileSync(path.join(hosts[2].stateDir, "agent-launch.json"), "utf8"));
    t.same(launchFile.labels, { zone: "a" }, "the agent's launch file has it for any later registration");

    hosts[0].labels = { zone: "c" };
    await pulumi(["config", "set", "hosts", JSON.stringify(hosts)]);
    await pulumi(["up", "--yes", "--skip-preview"]);
    const moved = await waitFor(async () => {
      const now = await containers(lab, "db");
      return now.length === 2 && !now.some((c) => c.host === lab.hosts[0].name) ? now : false;
    }, { what: "db's instance to leave node1 (zone c)", timeoutMs: 120_000 });
    const kept = db.filter((c) => c.host !== lab.hosts[0].name);
    t.ok(kept.every((k) => moved.some((m) => m.id === k.id)), "the instance whose rule still holds stayed");
    t.ok(moved.some((m) => m.host === lab.hosts[2].name), "the other moved to a zone=a host");
    await noChanges("no changes after the label updates");
  });

  await t.test("a wrong ssh key is refused by the update that brings it", async (t) => {
    const { utils } = require("ssh2");
    const wrong: string = utils.generateKeyPairSync("ed25519").private;
    await pulumi(["config", "set", "wrongKeyFor", "node2"]);
    await pulumi(["config", "set", "--secret", "wrongKey", Buffer.from(wrong).toString("base64")]);
    const change = steps((await pulumi(["preview", "--json"])).stdout);
    t.same(change.map((s) => s.step), ["update Host node2"], "an in-place update of node2");
    const up = await timedRun(["up", "--yes", "--skip-preview"]);
    t.not(up.code, 0, "up fails");
    t.match(up.output, /driver\.privateKey: host node2: authentication failed \(ssh root@/, "naming the key, the host and the step");
    t.notOk(up.output.includes(wrong.split("\n")[2]), "without quoting the key");
    await pulumi(["config", "rm", "wrongKeyFor"]);
    await pulumi(["config", "rm", "wrongKey"]);
    await noChanges("the state kept the working key: no changes once the program has it again");
  });

  await t.test("a killed agent: refresh shows it, up bootstraps it again", async (t) => {
    const node2 = hosts[1];
    const hostId = (await outputs()).hostIds.node2;
    const supervisor = readPid(path.join(node2.stateDir, "supervisor.pid"));
    const agent = readPid(path.join(node2.stateDir, "agent.pid"));
    t.ok(supervisor > 0 && agent > 0, "the agent and its supervisor run");
    process.kill(supervisor, "SIGKILL");
    process.kill(agent, "SIGKILL");
    await waitFor(async () => (await admin.ok("GET", `${base}/hosts/${hostId}`)).state === "disconnected",
      { what: "the server to find node2 disconnected", timeoutMs: 60_000 });
    await noChanges("without a refresh Pulumi cannot know (as with any provider)");
    await pulumi(["refresh", "--yes", "--skip-preview"]);
    const change = steps((await pulumi(["preview", "--json"])).stdout);
    const host = change.find((s) => s.step === "update Host node2");
    t.ok(host, "after refresh: an update of node2", { change });
    t.ok(change.every((s) => s.step.startsWith("update ")), "updates only, nothing replaced");
    const diff = await pulumi(["preview", "--diff"]);
    t.match(diff.stdout, /state\s*:\s*"disconnected" => "active"/, "shown as its state going back to active", { output: diff.stdout.slice(-3000) });
    await pulumi(["up", "--yes", "--skip-preview"]);
    const server = await admin.ok("GET", `${base}/hosts/${hostId}`);
    t.equal(server.state, "active", "node2 is active again, the same host");
    t.ok(readPid(path.join(node2.stateDir, "agent.pid")) !== agent, "with a new agent process");
    await noChanges("no changes after the repair");
  });

  await t.test("pulumi up --replace of a Host removes the old one before the new one registers", async (t) => {
    const oldId = (await outputs()).hostIds.node3;
    const urn = (JSON.parse((await pulumi(["stack", "export"])).stdout).deployment.resources as any[]).find((r) => r.urn.endsWith("drover:Host::node3")).urn;
    const up = await pulumi(["up", "--yes", "--skip-preview", "--replace", urn]);
    t.match(up.stdout, /deleted original|replaced/, "replaced", { output: up.stdout.slice(-2000) });
    const newId = (await outputs()).hostIds.node3;
    t.not(newId, oldId, "a new host id");
    const list = (await admin.ok("GET", `${base}/hosts?name=node3`)).data as any[];
    t.same(list.map((h) => [h.id, h.state]), [[newId, "active"]], "the server has exactly the new node3, active");
    t.equal((await admin.call("GET", `${base}/hosts/${oldId}`)).status, 404, "the old record is gone");
    t.ok(readPid(path.join(hosts[2].stateDir, "agent.pid")) > 0, "an agent runs on the machine");
    await noChanges("no changes after the replace");
  });

  started = Date.now();
  await pulumi(["destroy", "--yes", "--skip-preview"]);
  t.comment(`destroy took ${Date.now() - started} ms`);
  t.same([...await containers(lab, "db"), ...await containers(lab, "web")], [], "no container left");
  await pulumi(["stack", "rm", "--yes"]);
});
