import * as fs from "fs";
import * as path from "path";
import t from "tap";
import { PulumiWorkspace } from "../support/pulumi-cli";
import { typeCheck } from "../support/tsc";

// The examples are TypeScript: each type-checks against the built drover types (what an
// editor shows a user), and `pulumi preview` at the top of the repository runs the
// quickstart program through the root Pulumi.yaml (as `pulumi up` in a clone would).
const repoRoot = path.resolve(__dirname, "../../..");

for (const example of ["quickstart", "multi-host"]) {
  t.test(`examples/${example} type-checks`, async (t) => {
    t.setTimeout(300_000);
    const dir = path.join(repoRoot, "examples", example);
    t.ok(fs.existsSync(path.join(dir, "index.ts")) && !fs.existsSync(path.join(dir, "index.js")), "the program is index.ts");
    t.match(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"), /^main: index\.ts$/m, "Pulumi.yaml runs it");
    const { code, errors, output } = await typeCheck(dir);
    t.same(errors, [], "tsc --noEmit: no errors", { output: output.slice(0, 3000) });
    t.equal(code, 0, "tsc exits 0");
  });
}

t.test("pulumi preview at the repository root runs the quickstart", async (t) => {
  t.setTimeout(300_000);
  const ws = new PulumiWorkspace(repoRoot, `root-${process.pid}-${Date.now()}`);
  t.teardown(() => ws.cleanup());
  await ws.init({ "drover:endpoint": "http://127.0.0.1:9", hostName: "preview-only" });
  await ws.ok(["config", "set", "--secret", "drover:adminKey", "admin-key-for-preview-only"]);
  const preview = JSON.parse((await ws.ok(["preview", "--json"])).stdout);
  const creates = (preview.steps ?? []).filter((s: any) => s.op === "create" && s.urn.includes("drover:"))
    .map((s: any) => `${s.urn.split("::")[2].split(":").pop()} ${s.urn.split("::").pop()}`).sort();
  t.same(creates, ["Environment env", "Host local", "LoadBalancer web-lb", "Service cache", "Service web", "Stack demo"], "the quickstart's six resources, all checked");
  t.equal(preview.steps.find((s: any) => s.urn.endsWith("::local"))?.newState?.inputs?.name, "preview-only", "with this stack's config");
  await ws.ok(["stack", "rm", "--yes"]);
});
