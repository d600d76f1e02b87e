import * as path from "path";
import t from "tap";
import { PulumiWorkspace } from "../support/pulumi-cli";
import { serverForTest } from "./server-fixture";

// The real engine, offline, against a real server with no hosts: a check failure on a secret
// input is reported without the secret (the engine prints an input's value beside a failure
// that names it); a link to a missing service and a taken name fail the preview (the dry-run
// placement asks the server, for changed services only); the Service's state output.
const programDir = path.resolve(__dirname, "../../../test/fixtures/pulumi-drover-trust");
const MARKER = "not-a-key SECRET-MARKER-7f3a";

t.test("preview refuses what the server would, and never prints a secret doing so", async (t) => {
  t.setTimeout(600_000);
  const server = await serverForTest(t);
  const ws = new PulumiWorkspace(programDir, `trust-${process.pid}-${Date.now()}`);
  t.teardown(() => ws.cleanup());
  await ws.init({ "drover:endpoint": server.url, envName: `trust-${server.prefix}`, dbImage: "local/busybox" });
  await ws.ok(["config", "set", "--secret", "drover:adminKey", server.adminKey]);
  await ws.ok(["up", "--yes", "--skip-preview"], 300_000);
  t.equal((await ws.ok(["stack", "output", "dbState"])).stdout.trim(), "active", "the state output");
  t.equal((await ws.run(["preview", "--expect-no-changes"])).code, 0, "no changes right after up");

  await ws.ok(["config", "set", "--secret", "secretProbe", MARKER]);
  const probes: Array<[string, RegExp]> = [
    ["service", /drover:Service resource 'leaky' has a problem: apiKey: expected a key string/],
    ["host", /drover:Host resource 'leakyhost' has a problem: driver\.privateKey: does not look like a private key/],
  ];
  for (const [on, failure] of probes) {
    await ws.ok(["config", "set", "probeOn", on]);
    for (const args of [["preview", "--diff"], ["up", "--yes", "--skip-preview"]]) {
      const res = await ws.run(args, 300_000);
      const output = res.stdout + res.stderr;
      t.not(res.code, 0, `${args[0]} fails on the ${on}'s malformed secret`);
      t.match(output, failure, `${args[0]}: the failure names the field`);
      t.notOk(output.includes("SECRET-MARKER"), `${args[0]}: the secret's value is printed nowhere`, { output: output.slice(-3000) });
    }
  }
  await ws.ok(["config", "rm", "secretProbe"]);
  await ws.ok(["config", "rm", "probeOn"]);

  await ws.ok(["config", "set", "apiLink", "svc-missing"]);
  const link = await ws.run(["preview"]);
  t.not(link.code, 0, "a link to a missing service fails the preview");
  t.match(link.stdout + link.stderr, /links\.db: .*svc-missing/, "naming the link");
  await ws.ok(["config", "rm", "apiLink"]);

  await ws.ok(["config", "set", "duplicate", "true"]);
  const dup = await ws.run(["preview"]);
  t.not(dup.code, 0, "a second service named db fails the preview");
  t.match(dup.stdout + dup.stderr, /name: a service named db already exists in stack app/, "saying the name is taken");
  await ws.ok(["config", "rm", "duplicate"]);

  t.equal((await ws.run(["preview", "--expect-no-changes"])).code, 0, "back to no changes");
  await ws.ok(["destroy", "--yes", "--skip-preview"], 300_000);
  await ws.ok(["stack", "rm", "--yes"]);
});
