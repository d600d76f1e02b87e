import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { pulumiBinDir, PulumiWorkspace } from "../support/pulumi-cli";

// examples/multi-host through `pulumi preview` (no machines needed: check is local): the
// program loads, every resource passes check, and the plan is what the README says.
const repoRoot = path.resolve(__dirname, "../../..");
const programDir = path.join(repoRoot, "examples/multi-host");

function ensureDroverLink(): void {
  const link = path.join(repoRoot, "examples/node_modules/drover");
  fs.mkdirSync(path.dirname(link), { recursive: true });
  if (!fs.existsSync(link)) fs.symlinkSync("../..", link);
}

t.test("multi-host previews three ssh hosts, three placed services and a load balancer", async (t) => {
  t.setTimeout(300_000);
  ensureDroverLink();
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-mh-"));
  t.teardown(() => fs.rmSync(keyDir, { recursive: true, force: true }));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(keyDir, "id")]);
  const ws = new PulumiWorkspace(programDir, `mh-${process.pid}-${Date.now()}`);
  t.teardown(() => ws.cleanup());
  await ws.init({ "drover:endpoint": "http://127.0.0.1:9" });
  await ws.ok(["config", "set", "--secret", "drover:adminKey", "admin-key-for-preview-only"]);
  // As the README says: the key comes in on stdin (it starts with "-", and argv is visible to others).
  execFileSync("pulumi", ["config", "set", "--secret", "sshPrivateKey", "--non-interactive", "--stack", ws.stack], {
    cwd: programDir, input: fs.readFileSync(path.join(keyDir, "id")),
    env: { ...process.env, PATH: `${pulumiBinDir()}:${process.env.PATH}`, PULUMI_HOME: ws.home, PULUMI_BACKEND_URL: `file://${ws.backendDir}`, PULUMI_CONFIG_PASSPHRASE: "", PULUMI_SKIP_UPDATE_CHECK: "true" },
  });
  const hosts = [
    { name: "node1", address: "192.0.2.11", labels: { role: "db", zone: "a" } },
    { name: "node2", address: "192.0.2.12", labels: { role: "web", zone: "a" } },
    { name: "node3", address: "192.0.2.13", labels: { role: "web", zone: "b" } },
  ];
  for (const [i, h] of hosts.entries()) {
    await ws.ok(["config", "set", "--path", `hosts[${i}].name`, h.name]);
    await ws.ok(["config", "set", "--path", `hosts[${i}].address`, h.address]);
    for (const [k, v] of Object.entries(h.labels)) await ws.ok(["config", "set", "--path", `hosts[${i}].labels.${k}`, v]);
  }
  const preview = JSON.parse((await ws.ok(["preview", "--json"])).stdout);
  const creates = (preview.steps ?? []).filter((s: any) => s.op === "create" && s.urn.includes("drover:"))
    .map((s: any) => `${s.urn.split("::")[2].split(":").pop()} ${s.urn.split("::").pop()}`).sort();
  t.same(creates, ["Environment env", "Host node1", "Host node2", "Host node3", "LoadBalancer edge", "Service db", "Service web", "Service worker", "Stack app"].sort(),
    "one create per resource, all checked");
  const worker = (preview.steps ?? []).find((s: any) => s.urn.endsWith("::worker"));
  t.match(worker?.newState?.inputs?.scheduling, { hostLabelsNot: { role: "db" } }, "worker keeps off the db host");
});
