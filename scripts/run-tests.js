#!/usr/bin/env node
// Runs the compiled tap tests and ends with one line `N passed, N failed[, N skipped]`.
// A "test" is one t.test() inside a test file (or the file itself if it has none); a file
// that crashes counts as a failure. The raw TAP stream is kept in $DROVER_STATE/log.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");
const { Parser } = require("tap-parser");

const root = path.resolve(__dirname, "..");
const roots = process.argv.slice(2).length ? process.argv.slice(2) : ["dist/test"];

function findTests(p) {
  const abs = path.resolve(root, p);
  if (!fs.existsSync(abs)) return [];
  if (fs.statSync(abs).isFile()) return [p];
  return fs.readdirSync(abs, { withFileTypes: true }).flatMap((d) => {
    const rel = path.join(p, d.name);
    if (d.isDirectory()) return findTests(rel);
    return d.name.endsWith(".test.js") ? [rel] : [];
  });
}

const files = roots.flatMap(findTests).sort();
if (files.length === 0) {
  console.error(`no test files under ${roots.join(" ")}: did the build run?`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}

const logDir = path.join(process.env.DROVER_STATE || "/var/lib/drover", "log");
fs.mkdirSync(logDir, { recursive: true });
const rawPath = path.join(logDir, `tap-${new Date().toISOString().replace(/[:.]/g, "-")}.tap`);
const raw = fs.createWriteStream(rawPath);

let passed = 0, failed = 0, skipped = 0;
const failures = [];
const parser = new Parser({ bail: false });

// Level 0 results are files; level 1 results are the tests inside them.
parser.on("child", (fileParser) => {
  let childResults = 0;
  fileParser.on("assert", (res) => {
    childResults++;
    if (res.skip || res.todo) { skipped++; return; }
    if (res.ok) { passed++; return; }
    failed++;
    failures.push({ file: fileParser.name, name: res.name, diag: res.diag });
  });
  fileParser.on("complete", () => { fileParser.childResults = childResults; });
});
parser.on("assert", (res) => {
  const file = res.name;
  const child = parser.children?.find?.((c) => c.name === file);
  const status = res.ok ? "ok" : "not ok";
  console.log(`${status.padEnd(6)} ${file}${res.time ? ` (${(res.time / 1000).toFixed(1)} s)` : ""}`);
  if (!res.ok && !res.skip && !res.todo) {
    // A file that failed outside its tests (crash, timeout, failing top-level assert).
    const anyChildFailed = failures.some((f) => f.file === file);
    if (!anyChildFailed) {
      failed++;
      failures.push({ file, name: "(file)", diag: res.diag });
    }
  } else if (res.ok && child && child.childResults === 0) {
    passed++;
  }
});

const tapBin = path.join(root, "node_modules", ".bin", "tap");
const args = ["--reporter=tap", "--no-color", ...files];
const proc = spawn(tapBin, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
proc.stdout.on("data", (chunk) => { raw.write(chunk); parser.write(chunk); });
proc.on("close", (code) => {
  parser.end();
  raw.end();
  for (const f of failures) {
    console.log(`\nFAILED ${f.file} > ${f.name}`);
    if (f.diag) console.log(JSON.stringify(f.diag, null, 2).split("\n").slice(0, 40).join("\n"));
  }
  console.log(`\nraw TAP: ${rawPath}`);
  if (failed === 0 && code !== 0) { failed++; console.log(`tap exited with ${code}`); }
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
  process.exit(failed ? 1 : 0);
});
