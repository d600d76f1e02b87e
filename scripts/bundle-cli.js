#!/usr/bin/env node
/**
 * Prebuilds the day-two commands (the ones people run many times a day, whose start-up is
 * most of their wall time) as one esbuild file each: dist/runtime/cli/bundles/<command>.js.
 * Requiring one prebuilt file instead of ~30 compiled modules and ws' files saves tens of ms
 * per run (measured in bench/exec.bench.ts). bin/drover.js uses a bundle only when it is
 * newer than the last tsc build (dist/.tsbuildinfo), else the compiled modules, so a stale
 * bundle never runs. Run by `npm run build`, after tsc.
 */
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const cliDir = path.join(root, "dist", "runtime", "cli");
/** Command name → its compiled module (which exports the Command whose `name` is the command). */
const DAY_TWO = { login: "login-command", ps: "ps-command", logs: "logs-command", exec: "exec-command",
  hosts: "hosts-command", env: "env-command", events: "events-command", inspect: "inspect-command" };

async function bundleCli() {
  const esbuild = require("esbuild");
  const outDir = path.join(cliDir, "bundles");
  fs.mkdirSync(outDir, { recursive: true });
  await Promise.all(Object.entries(DAY_TWO).map(async ([name, file]) => {
    if (!fs.existsSync(path.join(cliDir, `${file}.js`))) throw new Error(`bundle-cli: dist/runtime/cli/${file}.js is missing: run tsc first`);
    // The bundle exports run(argv) → exit code, with main.ts' error handling (run-command.ts).
    const contents = `const m = require("./${file}");
const command = Object.values(m).find((v) => v && v.name === ${JSON.stringify(name)} && typeof v.run === "function");
exports.run = (argv) => require("./run-command").runCommand(${JSON.stringify(name)}, command, argv);`;
    const out = path.join(outDir, `${name}.js`);
    const tmp = `${out}.${process.pid}.tmp`;
    await esbuild.build({
      stdin: { contents, resolveDir: cliDir, sourcefile: `${name}-entry.js`, loader: "js" },
      bundle: true, platform: "node", format: "cjs", target: "node20", outfile: tmp,
      logLevel: "warning", legalComments: "none",
      // ws' optional native helpers: absent, ws uses its JS fallbacks either way.
      external: ["bufferutil", "utf-8-validate"],
    });
    fs.renameSync(tmp, out);
  }));
}

if (require.main === module) {
  bundleCli().catch((err) => { console.error(err.message ?? err); process.exitCode = 1; });
}
module.exports = { bundleCli, DAY_TWO };
