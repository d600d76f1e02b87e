import { spawn } from "child_process";
import Docker from "dockerode";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t, { type Test } from "tap";
import { labForTest, type Lab } from "../lab";
import { ControlPlane } from "../support/control-plane";
import { PulumiWorkspace } from "../support/pulumi-cli";

// drover as a user installs it: `npm pack` of this checkout, then a fresh Pulumi TypeScript
// project under the temp dir (outside the checkout) that installs it from the registry and
// the tarball, once as a directory (`npm install ./drover-x.y.z.tgz`) and once as a symlink
// (`npm install /path/to/drover`, a copy with its own node_modules, as a checkout has). Each
// runs a real `pulumi preview`, `up` and `destroy` inside lab host h1 with a `local` Host
// (h1 itself: the agent runs from the installed package) and an `ssh` Host (h2: the agent
// bundle is built from the installed package and uploaded), and a global service on both.
const repoRoot = path.resolve(__dirname, "../../..");
const fixture = path.join(repoRoot, "test/fixtures/install-project");

interface Run { code: number; out: string }

/** A command to its end (npm, tar); its output for the failure message. */
function run(cmd: string, args: string[], cwd: string, timeoutMs = 600_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err) => { clearTimeout(timer); reject(err); });
    child.on("close", (code) => { clearTimeout(timer); resolve({ code: code ?? -1, out }); });
  });
}

async function mustRun(t: Test, cmd: string, args: string[], cwd: string): Promise<string> {
  const res = await run(cmd, args, cwd);
  if (res.code !== 0) {
    t.fail(`${cmd} ${args.join(" ")} exited ${res.code}`, { output: res.out.slice(-4000) });
    throw new Error(`${cmd} ${args[0]} failed`);
  }
  return res.out;
}

/** A fresh TypeScript project: the fixture's files, and a package.json with only the SDK and TypeScript. */
function newProject(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ["Pulumi.yaml", "tsconfig.json", "index.ts"]) fs.copyFileSync(path.join(fixture, f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({
    name: "drover-install-project", version: "1.0.0", private: true,
    dependencies: { "@pulumi/pulumi": "3.248.0" },
    devDependencies: { typescript: "~5.9.3", "@types/node": "^20.19.0" },
  }, null, 2));
}

const NPM_FLAGS = ["--no-audit", "--no-fund", "--prefer-offline"];

async function containersOf(lab: Lab): Promise<string[]> {
  const out: string[] = [];
  for (const h of lab.hosts) {
    const list = await new Docker({ socketPath: h.dockerSocket }).listContainers({ all: true, filters: { label: ["io.drover.managed=true"] } });
    for (const c of list) out.push(`${h.name} ${c.Image}`);
  }
  return out.sort();
}

const pidIn = (file: string) => { try { return Number(fs.readFileSync(file, "utf8").trim()) || 0; } catch { return 0; } };
const cmdline = (pid: number) => { try { return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " "); } catch { return ""; } };

t.test("drover installed from its tarball, as a directory and as a symlink, runs local and ssh hosts", async (t) => {
  t.setTimeout(1_800_000);
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "drover-install-"));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  t.notOk(base.startsWith(repoRoot), `the projects are outside the checkout (${base})`);

  // The tarball of this (built) checkout; `prepack` would build again, the tests run on a build already.
  const packed = await mustRun(t, "npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", base], repoRoot);
  const tarball = path.join(base, JSON.parse(packed.slice(packed.indexOf("[")))[0].filename);
  t.match(path.basename(tarball), /^drover-\d+\.\d+\.\d+\.tgz$/, `npm pack made ${path.basename(tarball)}`);
  const listing = await mustRun(t, "tar", ["-tzf", tarball], base);
  t.ok(listing.includes("package/dist/provider/index.d.ts") && listing.includes("package/dist/agent/") && listing.includes("package/bin/drover.js"), "it holds the provider with its types, the agent and the CLI");
  t.notOk(/package\/(dist\/test|dist\/bench|node_modules|test|provider)\//.test(listing), "and no tests, benchmarks, sources or node_modules");

  // As a directory in node_modules.
  const fromTarball = path.join(base, "from-tarball");
  newProject(fromTarball);
  await mustRun(t, "npm", ["install", ...NPM_FLAGS, tarball], fromTarball);
  t.ok(fs.lstatSync(path.join(fromTarball, "node_modules/drover")).isDirectory(), "npm install of the tarball: node_modules/drover is a directory");

  // As a symlink to a copy with its own node_modules (what `npm install /path/to/checkout` makes).
  const source = path.join(base, "src", "drover");
  fs.mkdirSync(path.dirname(source), { recursive: true });
  await mustRun(t, "tar", ["-xzf", tarball, "-C", path.dirname(source)], base);
  fs.renameSync(path.join(path.dirname(source), "package"), source);
  await mustRun(t, "npm", ["install", ...NPM_FLAGS, "--omit=dev"], source);
  const linked = path.join(base, "linked");
  newProject(linked);
  await mustRun(t, "npm", ["install", ...NPM_FLAGS, source], linked);
  t.ok(fs.lstatSync(path.join(linked, "node_modules/drover")).isSymbolicLink(), "npm install of a directory: node_modules/drover is a symlink");

  const lab = await labForTest(t, { hosts: 2, sshd: true, name: "install" });
  const cp = await ControlPlane.start(lab, { graceMs: 3000 });
  t.teardown(() => cp.stop());
  await cp.startServer("s1");
  const [h1, h2] = lab.hosts;

  for (const [label, project, installed] of [["tarball", fromTarball, path.join(fromTarball, "node_modules/drover")], ["symlink", linked, source]] as const) {
    await t.test(`installed from the ${label}: preview, up, destroy`, async (t) => {
      const dirs = path.join(lab.runDir, label);
      const localHost = { name: `${label}-local`, stateDir: path.join(dirs, "local-state"), underlayIp: h1.underlayIp };
      const sshHost = {
        name: `${label}-ssh`, address: h2.ssh!.host, port: h2.ssh!.port, hostKey: h2.ssh!.hostPublicKey,
        installDir: path.join(dirs, "ssh-opt"), stateDir: path.join(dirs, "ssh-state"),
      };
      const ws = new PulumiWorkspace(project, `inst-${label}`, {}, (argv, cwd) => h1.argv(argv, cwd));
      t.teardown(() => ws.cleanup());
      const pulumi = ws.okFor(t);
      await ws.init({
        "drover:endpoint": cp.url, envName: `install-${label}`, localHost: JSON.stringify(localHost), sshHost: JSON.stringify(sshHost),
      });
      await pulumi(["config", "set", "--secret", "drover:adminKey", cp.adminKey]);
      await pulumi(["config", "set", "--secret", "sshKey", Buffer.from(h2.ssh!.privateKey).toString("base64")]);

      const preview = JSON.parse((await pulumi(["preview", "--json"])).stdout);
      const creates = (preview.steps ?? []).filter((s: any) => s.op === "create" && s.urn.includes("drover:")).length;
      t.equal(creates, 5, "preview (the TypeScript program type-checked and run by the engine) plans 5 creates");

      await pulumi(["up", "--yes", "--skip-preview"]);
      const out = JSON.parse((await pulumi(["stack", "output", "--json"])).stdout);
      t.same([out.hostStates, out.agentServices], [["active", "active"], ["supervisor", "supervisor"]], "both hosts active, each agent supervised");
      t.same(await containersOf(lab), [`${h1.name} local/busybox`, `${h2.name} local/busybox`], "the global service runs on the local and the ssh host");
      const localAgent = cmdline(pidIn(path.join(localHost.stateDir, "agent.pid")));
      t.match(localAgent, `${fs.realpathSync(installed)}/bin/drover.js agent`, "the local agent runs from the installed drover");
      const sshAgent = cmdline(pidIn(path.join(sshHost.stateDir, "agent.pid")));
      t.match(sshAgent, new RegExp(`${sshHost.installDir}/drover-agent-[^/]+/bin/drover\\.js agent`), "the ssh agent runs from the bundle made from it");
      t.equal((await ws.run(["preview", "--expect-no-changes"])).code, 0, "no changes right after up");

      await pulumi(["destroy", "--yes", "--skip-preview"]);
      t.same(await containersOf(lab), [], "destroy removed every container");
      t.notOk(fs.existsSync(path.join(localHost.stateDir, "agent.pid")) || fs.existsSync(path.join(sshHost.stateDir, "agent.pid")), "and stopped both agents");
      await pulumi(["stack", "rm", "--yes"]);
    });
  }
});
