import * as path from "path";
import t from "tap";
import { runNode } from "../support/run-node";
import { pulumiBinDir, PulumiWorkspace } from "../support/pulumi-cli";
import { serverForTest } from "../provider/server-fixture";

// examples/teardown (Automation API, compiled by the build to dist/examples/teardown) destroys a small stack that `pulumi up` made
// (Environment + Stack + Service of scale 0) and reports its outputs and what it removed.
const repoRoot = path.resolve(__dirname, "../../..");
const programDir = path.join(repoRoot, "test/fixtures/pulumi-drover");

function runTeardown(args: string[], env: Record<string, string>) {
  return runNode([path.join(repoRoot, "dist/examples/teardown"), ...args], { env });
}

t.test("the teardown example destroys a stack and lists what it removed", async (t) => {
  t.setTimeout(600_000);
  const server = await serverForTest(t);
  const stackName = `teardown-${process.pid}-${Date.now()}`;
  const ws = new PulumiWorkspace(programDir, stackName);
  t.teardown(() => ws.cleanup());
  await ws.init({ "drover:endpoint": server.url, envName: `td-${server.prefix}` });
  await ws.ok(["config", "set", "--secret", "drover:adminKey", server.adminKey]);
  await ws.ok(["up", "--yes", "--skip-preview"], 300_000);
  const envId = (await ws.ok(["stack", "output", "envId"])).stdout.trim();

  const res = await runTeardown(["--stack", stackName, "--dir", programDir, "--json"], {
    ...(process.env as Record<string, string>),
    PATH: `${pulumiBinDir()}:${process.env.PATH}`,
    PULUMI_HOME: ws.home, PULUMI_BACKEND_URL: `file://${ws.backendDir}`, PULUMI_CONFIG_PASSPHRASE: "",
    PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  });
  t.equal(res.code, 0, "exits 0", { stderr: res.err });
  const report = JSON.parse(res.out.trim().split("\n").pop() || "{}");
  t.equal(report.result, "succeeded");
  t.same(report.outputs.envId, envId, "outputs were read before the destroy");
  t.equal(report.outputs.apiKey, "[secret]", "secret outputs stay hidden");
  t.same(report.removed.map((r: any) => `${r.type} ${r.name}`).sort(), ["drover:Environment env", "drover:Service web", "drover:Stack demo"], "the three resources are listed as removed");
  t.ok(report.removed.every((r: any) => typeof r.id === "string" && r.id.length > 0), "each with its id");
  t.same(report.remaining, [], "nothing left in the state");
  const gone = await fetch(`${server.url}/v1/environments/${envId}`, { headers: { authorization: `Bearer ${server.adminKey}` } });
  t.equal(gone.status, 404, "the environment is gone from the server");
  await ws.ok(["stack", "rm", "--yes"]);
});
