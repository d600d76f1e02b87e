import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { PulumiWorkspace } from "../support/pulumi-cli";

// The real Pulumi engine, offline on a local backend, through a trivial dynamic resource
// whose real object is a file: preview, up, no-change preview, refresh after drift, destroy.
const programDir = path.resolve(__dirname, "../../../test/fixtures/pulumi-trivial");

interface PreviewStep { op: string; urn: string }

function stepsOf(previewJson: string): PreviewStep[] {
  const parsed = JSON.parse(previewJson) as { steps?: PreviewStep[] };
  return (parsed.steps ?? []).filter((s) => s.urn.includes("TrivialFile"));
}

/** An output of the TrivialFile resource as the state holds it (`stack output` shows only what `up` exported). */
async function resourceOutput(ws: PulumiWorkspace, key: string): Promise<unknown> {
  const exported = JSON.parse((await ws.ok(["stack", "export"])).stdout) as {
    deployment: { resources?: { type: string; outputs?: Record<string, unknown> }[] };
  };
  const resource = exported.deployment.resources?.find((r) => r.type.endsWith(":TrivialFile"));
  return resource?.outputs?.[key];
}

t.test("trivial dynamic resource through preview, up, refresh and destroy", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-trivial-"));
  const target = path.join(dir, "greeting.txt");
  const ws = new PulumiWorkspace(programDir, `engine-${process.pid}-${Date.now()}`);
  t.teardown(() => { ws.cleanup(); fs.rmSync(dir, { recursive: true, force: true }); });

  await ws.init({ path: target, content: "hello" });

  const started = Date.now();
  const preview = await ws.ok(["preview", "--json"]);
  t.same(stepsOf(preview.stdout).map((s) => s.op), ["create"], "preview plans one create");
  t.notOk(fs.existsSync(target), "preview changes nothing");

  await ws.ok(["up", "--yes", "--skip-preview"]);
  t.equal(fs.readFileSync(target, "utf8"), "hello", "up created the file");

  const same = await ws.run(["preview", "--expect-no-changes"]);
  t.equal(same.code, 0, "preview --expect-no-changes passes right after up", { output: same.stdout + same.stderr });

  await ws.ok(["config", "set", "content", "changed"]);
  const change = await ws.ok(["preview", "--json"]);
  t.same(stepsOf(change.stdout).map((s) => s.op), ["update"], "a changed input previews as one update");
  const failing = await ws.run(["preview", "--expect-no-changes"]);
  t.not(failing.code, 0, "--expect-no-changes fails when something would change");
  await ws.ok(["up", "--yes", "--skip-preview"]);
  t.equal(fs.readFileSync(target, "utf8"), "changed", "up applied the update");

  fs.writeFileSync(target, "drifted by hand");
  await ws.ok(["refresh", "--yes", "--skip-preview"]);
  t.equal(await resourceOutput(ws, "content"), "drifted by hand", "refresh recorded the drift in the state");
  const repair = await ws.ok(["preview", "--json"]);
  t.same(stepsOf(repair.stdout).map((s) => s.op), ["update"], "after refresh, preview plans to repair the drift");

  await ws.ok(["destroy", "--yes", "--skip-preview"]);
  t.notOk(fs.existsSync(target), "destroy deleted the file");
  const after = await ws.ok(["stack", "--show-urns"]);
  t.notMatch(after.stdout, /TrivialFile/, "no resource left in the stack");
  await ws.ok(["stack", "rm", "--yes"]);
  t.comment(`engine lifecycle took ${Date.now() - started} ms`);
});

t.test("a check() failure stops the preview and changes nothing", async (t) => {
  const ws = new PulumiWorkspace(programDir, `engine-bad-${process.pid}-${Date.now()}`);
  t.teardown(() => ws.cleanup());
  await ws.init({ path: "relative/path.txt" });
  const res = await ws.run(["preview"]);
  t.not(res.code, 0, "preview fails");
  t.match(res.stdout + res.stderr, /path must be an absolute file path/, "the failure names the field and what was expected");
  t.notOk(fs.existsSync(path.join(programDir, "relative")), "nothing was written");
});
