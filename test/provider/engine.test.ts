import * as path from "path";
import t from "tap";
import { PulumiWorkspace } from "../support/pulumi-cli";
import { serverForTest } from "./server-fixture";

// The real engine, offline: preview, up, no-change preview, destroy of Environment + Stack +
// Service; the state must hold the environment's secrets only encrypted.
const programDir = path.resolve(__dirname, "../../../test/fixtures/pulumi-drover");

t.test("Environment, Stack and Service through the Pulumi engine", async (t) => {
  t.setTimeout(600_000);
  const server = await serverForTest(t);
  const ws = new PulumiWorkspace(programDir, `prov-${process.pid}-${Date.now()}`);
  t.teardown(() => ws.cleanup());
  await ws.init({ "drover:endpoint": server.url, envName: `eng-${server.prefix}` });
  await ws.ok(["config", "set", "--secret", "drover:adminKey", server.adminKey]);

  const preview = JSON.parse((await ws.ok(["preview", "--json"])).stdout);
  const ops = (preview.steps ?? []).filter((s: any) => s.urn.includes("drover:")).map((s: any) => s.op);
  t.same(ops, ["create", "create", "create"], "preview plans three creates");

  await ws.ok(["up", "--yes", "--skip-preview"], 300_000);
  const apiKey = (await ws.ok(["stack", "output", "apiKey", "--show-secrets"])).stdout.trim();
  const token = (await ws.ok(["stack", "output", "registrationToken", "--show-secrets"])).stdout.trim();
  t.match(apiKey, /^drk/, "the environment's API key is an output");
  const state = (await ws.ok(["stack", "export"])).stdout;
  t.notOk(state.includes(apiKey), "API key not in plaintext in the state");
  t.notOk(state.includes(token), "registration token not in plaintext in the state");
  t.notOk(state.includes(server.adminKey), "admin key not in plaintext in the state");

  const same = await ws.run(["preview", "--expect-no-changes"]);
  t.equal(same.code, 0, "no changes right after up", { output: same.stdout + same.stderr });

  await ws.ok(["destroy", "--yes", "--skip-preview"], 300_000);
  const left = await fetch(`${server.url}/v1/environments`, { headers: { authorization: `Bearer ${server.adminKey}` } });
  t.same((await left.json() as any).data, [], "destroy removed the environment");
  await ws.ok(["stack", "rm", "--yes"]);
});
