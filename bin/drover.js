#!/usr/bin/env node
// Thin shim: the CLI is TypeScript compiled to dist/ by `npm run build`. The day-two commands
// also come prebuilt as one file each (scripts/bundle-cli.js): loading one file is tens of ms
// faster than resolving the compiled modules one by one. A bundle older than the last tsc build
// is stale and is not used (.tsbuildinfo is absent from a package: its bundles are current).
const fs = require("fs");
const path = require("path");

function bundleFor(name) {
  if (!/^[a-z]+$/.test(name || "")) return undefined;
  const dist = path.join(__dirname, "..", "dist");
  const file = path.join(dist, "runtime", "cli", "bundles", `${name}.js`);
  const bundle = fs.statSync(file, { throwIfNoEntry: false });
  if (!bundle) return undefined;
  const built = fs.statSync(path.join(dist, ".tsbuildinfo"), { throwIfNoEntry: false });
  return built && built.mtimeMs > bundle.mtimeMs ? undefined : file;
}

const argv = process.argv.slice(2);
const bundle = bundleFor(argv[0]);
const run = bundle ? require(bundle).run(argv.slice(1)) : require("../dist/runtime/cli/main.js").main(argv);
run.then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err && err.stack ? err.stack : String(err)); process.exitCode = 1; },
);
