import * as path from "path";
import t from "tap";
import { AGENT_PACKAGES } from "../../provider/agent-bundle";

// The agent bundle ships only AGENT_PACKAGES (and their dependencies): every npm package that
// drover's own code reachable from the agent's entry imports must be listed, or a host
// installed over ssh fails at start with "Cannot find module" (ws was missing once).
t.test("every npm package the agent's code imports is in AGENT_PACKAGES", async (t) => {
  const esbuild = require("esbuild") as typeof import("esbuild");
  const root = path.resolve(__dirname, "../..");
  const result = await esbuild.build({
    entryPoints: [path.join(root, "agent/executable-main.js")], bundle: true, platform: "node", write: false,
    metafile: true, logLevel: "silent", absWorkingDir: root,
    // Optional or stubbed: ssh2 is never used by the agent; ws's native helpers are optional.
    external: ["ssh2", "cpu-features", "bufferutil", "utf-8-validate"],
  });
  const imported = new Set<string>();
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    if (file.includes("node_modules/")) continue;
    for (const i of input.imports) {
      const m = i.path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
      if (m) imported.add(m[1]);
    }
  }
  t.ok(imported.has("dockerode") && imported.has("ioredis"), `the scan sees the agent's packages: ${[...imported].join(", ")}`);
  t.same([...imported].filter((p) => !AGENT_PACKAGES.includes(p)).sort(), [], "not shipped by the agent bundle");
});
