#!/usr/bin/env node
// Thin shim: the CLI is TypeScript compiled to dist/ by `npm run build`.
require("../dist/runtime/cli/main.js").main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err && err.stack ? err.stack : String(err)); process.exitCode = 1; },
);
