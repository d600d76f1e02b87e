import * as path from "path";
import t from "tap";
import { PulumiWorkspace } from "../support/pulumi-cli";
import { serverForTest } from "./server-fixture";

// The real engine: a change to a Service that another Service links to and a LoadBalancer
// targets previews as exactly one update (its serviceId stays known), and so does a change
// to the Stack every service hangs off (its stackId and serverUrl stay known). A misspelt
// input fails preview and up with a did-you-mean, and changes nothing.
const programDir = path.resolve(__dirname, "../../../test/fixtures/pulumi-drover-links");

/** The drover steps of a `preview --json` that do something, as "op Type name". */
function changedSteps(previewJson: string): string[] {
  return ((JSON.parse(previewJson).steps ?? []) as any[])
    .filter((s) => s.urn.includes("drover:") && s.op !== "same")
    .map((s) => `${s.op} ${s.urn.split("::")[2].split(":").pop()} ${s.urn.split("::").pop()}`);
}

t.test("dependents of a changed resource preview no change", async (t) => {
  t.setTimeout(600_000);
  const server = await serverForTest(t);
  const ws = new PulumiWorkspace(programDir, `links-${process.pid}-${Date.now()}`);
  t.teardown(() => ws.cleanup());
  await ws.init({ "drover:endpoint": server.url, envName: `links-${server.prefix}`, dbImage: "local/busybox" });
  await ws.ok(["config", "set", "--secret", "drover:adminKey", server.adminKey]);
  await ws.ok(["up", "--yes", "--skip-preview"], 300_000);
  t.equal((await ws.run(["preview", "--expect-no-changes"])).code, 0, "no changes right after up");

  await ws.ok(["config", "set", "dbImage", "local/busybox:v2"]);
  const image = changedSteps((await ws.ok(["preview", "--json"])).stdout);
  t.same(image, ["update Service db"], "a new image of db: one update, not of api (links to db) or edge (targets db)");

  await ws.ok(["config", "set", "dbImage", "local/busybox"]);
  await ws.ok(["config", "set", "stackDescription", "the app"]);
  const description = changedSteps((await ws.ok(["preview", "--json"])).stdout);
  t.same(description, ["update Stack app"], "a new stack description: one update, none of its services or load balancer");

  await ws.ok(["up", "--yes", "--skip-preview"], 300_000);
  t.equal((await ws.run(["preview", "--expect-no-changes"])).code, 0, "no changes after that update");

  /**
   * The drover resources as the state holds them, secrets decrypted (their ciphertext changes
   * with every save), by URN (a failed update may save them in another order).
   */
  const droverState = async () => ((JSON.parse((await ws.ok(["stack", "export", "--show-secrets"])).stdout).deployment.resources as any[])
    .filter((r) => r.type.includes("drover:")).map((r) => ({ urn: r.urn, id: r.id, inputs: r.inputs, outputs: r.outputs }))
    .sort((a, b) => a.urn.localeCompare(b.urn)));
  const before = await droverState();
  await ws.ok(["config", "set", "typo", "true"]);
  for (const args of [["preview"], ["up", "--yes", "--skip-preview"]]) {
    const res = await ws.run(args, 300_000);
    t.not(res.code, 0, `${args[0]} fails on sclae: 3`);
    t.match(res.stdout + res.stderr, /sclae: unknown field; did you mean scale\?/, `${args[0]} says which field and what was meant`);
  }
  t.same(await droverState(), before, "the failed up changed no resource in the state");
  await ws.ok(["config", "rm", "typo"]);
  t.equal((await ws.run(["preview", "--expect-no-changes"])).code, 0, "without the typo: no changes");
  await ws.ok(["destroy", "--yes", "--skip-preview"], 300_000);
  await ws.ok(["stack", "rm", "--yes"]);
});
