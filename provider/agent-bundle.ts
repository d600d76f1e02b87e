/**
 * The agent bundle: a tarball with everything `drover agent` needs on a host that has only
 * node: bin/drover.js, dist/agent, dist/runtime, package.json and the production
 * node_modules closure of the agent's packages (computed from each package's
 * `dependencies`, resolved the way Node resolves them). Built once per drover version and
 * content, cached under $DROVER_CACHE (or the temp dir), named by version and content hash.
 *
 * Runs in the dynamic-provider process from the installed drover (forward.ts): nothing at
 * module scope but constants.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The npm packages the agent requires; their dependencies are found, not listed. */
export const AGENT_PACKAGES = ["dockerode", "ioredis", "dns-packet", "pino", "ws"];

export interface AgentBundle {
  /** drover-agent-<version>-<hash16>: also the directory it unpacks to on a host. */
  name: string;
  file: string;
  /** sha256 of the tarball, compared with the host's copy. */
  sha256: string;
  version: string;
}

/**
 * The drover package this code runs from, by its real path: where Node itself resolves
 * drover's dependencies from, whether drover was installed from a tarball (a directory in
 * node_modules), linked (`npm install /path/to/drover` makes a symlink), or is the checkout.
 * This module runs from the installed package (forward.ts loads it), never serialized, so
 * its own location is the answer; no working directory or environment variable involved.
 */
export function droverRoot(): string {
  const root = fs.realpathSync(path.resolve(__dirname, "..", ".."));
  let name: unknown;
  try { name = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).name; } catch { /* reported below */ }
  if (name !== "drover") throw new Error(`agent bundle: ${root} (two levels above ${__dirname}) is not the drover package`);
  return root;
}

/** Node's lookup: <dir>/node_modules/<name>, then in each parent. */
function findPackage(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (fs.existsSync(path.join(candidate, "package.json"))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Package dirs (real paths) of `roots` and everything they depend on (not optional or dev
 * dependencies), each resolved as Node resolves it: from the real path of the package that
 * requires it, up through the node_modules directories above.
 */
export function dependencyClosure(root: string, roots: readonly string[] = AGENT_PACKAGES): string[] {
  const seen = new Set<string>();
  const queue: Array<{ name: string; from: string; by: string }> = roots.map((name) => ({ name, from: fs.realpathSync(root), by: "drover" }));
  while (queue.length > 0) {
    const { name, from, by } = queue.shift()!;
    const dir = findPackage(name, from);
    if (!dir) throw new Error(`agent bundle: package ${name} (needed by ${by}) is not installed in a node_modules above ${from}: run npm install there`);
    const real = fs.realpathSync(dir);
    if (seen.has(real)) continue;
    seen.add(real);
    const pkg = JSON.parse(fs.readFileSync(path.join(real, "package.json"), "utf8"));
    for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push({ name: dep, from: real, by: name });
  }
  return [...seen].sort();
}

/**
 * Where a package dir goes in the bundle: its path below the nearest node_modules above
 * `root` that holds it (node_modules/x, or node_modules/x/node_modules/y for a nested
 * copy), so the agent resolves it there as Node did here. Undefined for a package linked
 * in from elsewhere.
 */
function treePathOf(pkgDir: string, root: string): string | undefined {
  for (let base = root; ; base = path.dirname(base)) {
    if (pkgDir.startsWith(path.join(base, "node_modules") + path.sep)) return path.relative(base, pkgDir);
    if (path.dirname(base) === base) return undefined;
  }
}

/** Files under `dir` (no nested node_modules, no source maps or type declarations). */
function walk(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules") walk(full, out);
    } else if (entry.isFile() && !/\.(map|d\.ts|d\.mts|d\.cts)$/.test(entry.name)) {
      out.push(full);
    }
  }
  return out;
}

/** [source file, path in the bundle] for every file of the bundle, sorted by bundle path. */
export function bundleFiles(installed: string): Array<[string, string]> {
  const root = fs.realpathSync(installed);
  const files: Array<[string, string]> = [
    [path.join(root, "package.json"), "package.json"],
    [path.join(root, "bin", "drover.js"), "bin/drover.js"],
  ];
  for (const sub of ["dist/agent", "dist/runtime"]) {
    const dir = path.join(root, sub);
    if (!fs.existsSync(dir)) throw new Error(`agent bundle: ${sub} is missing in ${root}: run npm run build`);
    for (const f of walk(dir)) files.push([f, path.relative(root, f)]);
  }
  const placed = dependencyClosure(root).map((dir) => ({ dir, at: treePathOf(dir, root) }));
  const taken = new Set<string | undefined>();
  for (const p of placed) {
    // Two versions that would land in one place (one nested under drover, one hoisted above
    // it): the bundle has no "above", so one would shadow the other. Say so rather than guess.
    if (p.at !== undefined && taken.has(p.at)) {
      throw new Error(`agent bundle: two copies of ${p.at} (one of them ${p.dir}) would both go to ${p.at}: run npm dedupe in the project`);
    }
    taken.add(p.at);
  }
  for (const p of placed) {
    if (p.at !== undefined) continue;
    // Linked in from outside the tree (a workspace, npm link): the top level, if that place is free.
    const top = path.join("node_modules", JSON.parse(fs.readFileSync(path.join(p.dir, "package.json"), "utf8")).name);
    if (taken.has(top)) throw new Error(`agent bundle: ${p.dir} is linked from outside the node_modules above ${root}, and ${top} is taken`);
    taken.add(top);
    p.at = top;
  }
  for (const { dir, at } of placed) {
    for (const f of walk(dir)) files.push([f, path.join(at!, path.relative(dir, f))]);
  }
  return files.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
}

function sha256File(file: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** Bundles kept in the cache: every rebuild of dist/ makes a new one. */
const KEEP_BUNDLES = 4;

/** Keeps the `keep` newest bundles (an upload in progress keeps reading a removed file). */
function pruneCache(cacheDir: string, keep: number): void {
  const bundles = fs.readdirSync(cacheDir).filter((f) => /^drover-agent-.*\.tar\.gz$/.test(f))
    .map((f) => ({ f, at: fs.statSync(path.join(cacheDir, f)).mtimeMs })).sort((a, b) => b.at - a.at);
  for (const { f } of bundles.slice(keep)) for (const x of [f, `${f}.sha256`]) fs.rmSync(path.join(cacheDir, x), { force: true });
}

/** Builds the bundle, or finds it in the cache (same version and content → same file). */
export function agentBundle(root = droverRoot()): AgentBundle {
  const version = String(JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version);
  const files = bundleFiles(root);
  const content = crypto.createHash("sha256");
  for (const [src, at] of files) content.update(`${at}\0${(fs.statSync(src).mode & 0o111) ? "x" : "-"}\0${sha256File(src)}\n`);
  const name = `drover-agent-${version}-${content.digest("hex").slice(0, 16)}`;
  const cacheDir = path.join(process.env.DROVER_CACHE || os.tmpdir(), "agent-bundles");
  const file = path.join(cacheDir, `${name}.tar.gz`);
  const shaFile = `${file}.sha256`;
  if (fs.existsSync(file) && fs.existsSync(shaFile)) {
    return { name, file, sha256: fs.readFileSync(shaFile, "utf8").trim(), version };
  }
  fs.mkdirSync(cacheDir, { recursive: true });
  const staging = fs.mkdtempSync(path.join(cacheDir, `.${name}-`));
  try {
    for (const [src, at] of files) {
      const dest = path.join(staging, name, at);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(src, dest);
      fs.chmodSync(dest, fs.statSync(src).mode & 0o777);
    }
    const tmp = path.join(staging, "bundle.tar.gz");
    // Fixed order, times and owners: the same content gives the same tarball.
    execFileSync("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-czf", tmp, "-C", staging, name],
      { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, GZIP: "-n" } });
    const sha256 = sha256File(tmp);
    fs.renameSync(tmp, file);
    fs.writeFileSync(shaFile, `${sha256}\n`);
    pruneCache(cacheDir, KEEP_BUNDLES);
    return { name, file, sha256, version };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
