import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { bundleFiles, droverRoot } from "../../provider/agent-bundle";

// The agent bundle finds drover's packages the way Node does, from the installed drover's
// real path: a tarball install (dependencies hoisted into the project's node_modules), a
// linked install (`npm install /path/to/drover`: a symlink, dependencies in the target's own
// node_modules) and nested copies all bundle. Package trees are laid out in a temp dir.
const repoRoot = path.resolve(__dirname, "../../..");

function writePackage(dir: string, name: string, deps: Record<string, string> = {}): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, version: "1.0.0", dependencies: deps }));
  fs.writeFileSync(path.join(dir, "index.js"), `module.exports = ${JSON.stringify(name)};\n`);
}

function writeDrover(dir: string): void {
  writePackage(dir, "drover", { dockerode: "1", ioredis: "1", "dns-packet": "1", pino: "1", ws: "1" });
  for (const f of ["bin/drover.js", "dist/agent/main.js", "dist/runtime/cli/main.js"]) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), "// drover\n");
  }
}

/** dockerode → dep-a; dns-packet → nested-b (its own copy under dns-packet); ioredis. */
function writeDeps(nodeModules: string): void {
  writePackage(path.join(nodeModules, "dockerode"), "dockerode", { "dep-a": "1" });
  writePackage(path.join(nodeModules, "dep-a"), "dep-a");
  writePackage(path.join(nodeModules, "ioredis"), "ioredis");
  writePackage(path.join(nodeModules, "pino"), "pino");
  writePackage(path.join(nodeModules, "ws"), "ws");
  writePackage(path.join(nodeModules, "dns-packet"), "dns-packet", { "nested-b": "2" });
  writePackage(path.join(nodeModules, "dns-packet", "node_modules", "nested-b"), "nested-b");
  writePackage(path.join(nodeModules, "nested-b"), "nested-b"); // another version at the top: not the one dns-packet gets
}

const EXPECTED = [
  "bin/drover.js", "dist/agent/main.js", "dist/runtime/cli/main.js", "package.json",
  "node_modules/dep-a/index.js", "node_modules/dep-a/package.json",
  "node_modules/dns-packet/index.js", "node_modules/dns-packet/node_modules/nested-b/index.js", "node_modules/dns-packet/node_modules/nested-b/package.json", "node_modules/dns-packet/package.json",
  "node_modules/dockerode/index.js", "node_modules/dockerode/package.json",
  "node_modules/ioredis/index.js", "node_modules/ioredis/package.json",
  "node_modules/pino/index.js", "node_modules/pino/package.json",
  "node_modules/ws/index.js", "node_modules/ws/package.json",
].sort();

t.test("drover is found where this code runs from", async (t) => {
  t.equal(droverRoot(), fs.realpathSync(repoRoot), "the checkout, by its real path");
});

t.test("a linked install (symlink to a checkout with its own node_modules)", async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "drover-bundle-"));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const src = path.join(base, "src", "drover");
  writeDrover(src);
  writeDeps(path.join(src, "node_modules"));
  const project = path.join(base, "project");
  fs.mkdirSync(path.join(project, "node_modules"), { recursive: true });
  fs.symlinkSync(path.relative(path.join(project, "node_modules"), src), path.join(project, "node_modules", "drover"));
  const files = bundleFiles(path.join(project, "node_modules", "drover"));
  t.same(files.map(([, at]) => at).sort(), EXPECTED, "every package placed as Node resolves it");
  t.ok(files.every(([from]) => from.startsWith(fs.realpathSync(src))), "read from the link's target");
});

t.test("a tarball install (dependencies hoisted into the project's node_modules)", async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "drover-bundle-"));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const project = path.join(base, "project");
  writeDrover(path.join(project, "node_modules", "drover"));
  writeDeps(path.join(project, "node_modules"));
  const files = bundleFiles(path.join(project, "node_modules", "drover"));
  t.same(files.map(([, at]) => at).sort(), EXPECTED);
  const nested = files.find(([, at]) => at === "node_modules/dns-packet/node_modules/nested-b/package.json");
  t.equal(nested?.[0], path.join(fs.realpathSync(project), "node_modules/dns-packet/node_modules/nested-b/package.json"), "dns-packet keeps its own nested-b");
});

t.test("a missing package names who needs it", async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "drover-bundle-"));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const root = path.join(base, "drover");
  writeDrover(root);
  writeDeps(path.join(root, "node_modules"));
  fs.rmSync(path.join(root, "node_modules", "dep-a"), { recursive: true });
  t.throws(() => bundleFiles(root), /package dep-a \(needed by dockerode\) is not installed in a node_modules above /);
});

t.test("two copies that would land in one place are refused, not shadowed", async (t) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "drover-bundle-"));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const project = path.join(base, "project");
  const drover = path.join(project, "node_modules", "drover");
  writeDrover(drover);
  writeDeps(path.join(project, "node_modules"));
  // drover's own ioredis needs another dep-a, installed under drover; dockerode keeps the hoisted one.
  writePackage(path.join(drover, "node_modules", "ioredis"), "ioredis", { "dep-a": "2" });
  writePackage(path.join(drover, "node_modules", "dep-a"), "dep-a");
  t.throws(() => bundleFiles(drover), /two copies of node_modules\/dep-a .* would both go to node_modules\/dep-a: run npm dedupe/);
});
