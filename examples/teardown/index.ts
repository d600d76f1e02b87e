#!/usr/bin/env node
// Destroys a drover Pulumi stack through the Automation API and reports what was removed:
// the stack's outputs and resources are read before, `destroy` runs, and every resource that
// was in the state before and is gone after is listed.
//
//   node dist/examples/teardown --stack quickstart [--dir examples/quickstart] [--config-file F] [--json]
//
// (`npm run build` compiles it.) Uses the backend and passphrase of the environment
// (PULUMI_BACKEND_URL=file://..., and PULUMI_CONFIG_PASSPHRASE), and the `pulumi` CLI on PATH
// (`. scripts/env.sh`).
import * as path from "path";
import { parseArgs } from "util";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";

interface StateResource { urn: string; type: string; name: string; id?: string }

const repoRoot = path.resolve(__dirname, "..", "..", "..");
const { values } = parseArgs({
  options: {
    stack: { type: "string" },
    dir: { type: "string", default: path.join(repoRoot, "examples", "quickstart") },
    "config-file": { type: "string" },
    json: { type: "boolean", default: false },
  },
});

/** The stack's resources as the state holds them (providers and the stack itself left out). */
async function resourcesOf(stack: Stack): Promise<StateResource[]> {
  const state = await stack.exportStack();
  return ((state.deployment.resources ?? []) as Array<{ urn: string; type: string; id?: string }>)
    .filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"))
    .map((r) => ({ urn: r.urn, type: r.type.replace(/^pulumi-nodejs:dynamic\//, ""), name: r.urn.split("::").pop() ?? r.urn, id: r.id }));
}

async function main(): Promise<number> {
  if (!values.stack) {
    console.error("usage: node dist/examples/teardown --stack NAME [--dir PROGRAM_DIR] [--config-file FILE] [--json]");
    return 2;
  }
  const stack = await LocalWorkspace.selectStack({ stackName: values.stack, workDir: path.resolve(values.dir!) });
  const outputs = await stack.outputs();
  const before = await resourcesOf(stack);
  const opts = values["config-file"] ? { configFile: path.resolve(values["config-file"]) } : {};
  const result = await stack.destroy({ ...opts, onOutput: values.json ? undefined : (s: string) => process.stderr.write(s) });
  const remaining = new Set((await resourcesOf(stack)).map((r) => r.urn));
  const removed = before.filter((r) => !remaining.has(r.urn));
  const shownOutputs = Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, o.secret ? "[secret]" : o.value]));
  if (values.json) {
    console.log(JSON.stringify({ stack: values.stack, result: result.summary.result, outputs: shownOutputs, removed, remaining: [...remaining] }));
  } else {
    console.log(`stack ${values.stack}: destroy ${result.summary.result}`);
    console.log("outputs before:");
    for (const [k, v] of Object.entries(shownOutputs)) console.log(`  ${k} = ${JSON.stringify(v)}`);
    console.log(`removed ${removed.length} resource(s):`);
    for (const r of removed) console.log(`  ${r.type.padEnd(20)} ${r.name.padEnd(16)} ${r.id ?? ""}`);
    if (remaining.size) console.log(`still in the state: ${[...remaining].join(", ")}`);
  }
  return result.summary.result === "succeeded" && remaining.size === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => { console.error(err?.message ?? err); process.exit(1); });
