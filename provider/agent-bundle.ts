/**
 * The agent bundle: a tarball with everything `drover agent` needs on a host that has only
 * node: bin/drover.js, dist/agent, dist/runtime, package.json and the production
 * node_modules closure of the agent's packages (computed from each package's
 * `dependencies`, resolved the way Node resolves them). Built once per drover version and
 * content, cached under $DROVER_CACHE (or the temp dir), named by version and content hash.
 *
 * Runs inside the serialized provider: nothing at module scope but constants, no __dirname
 * (the drover package is found from the program's working directory).
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The npm packages the agent requires; their dependencies are found, not listed. */
export const AGENT_PACKAGES = ["dockerode", "ioredis", "dns-packet"];

export interface AgentBundle {
  /** drover-agent-<version>-<hash16>: also the directory it unpacks to on a host. */
  name: string;
  file: string;
  /** sha256 of the tarball, compared with the host's copy. */
  sha256: string;
  version: string;
}

/** The drover package: $DROVER_ROOT, else walking up from the working dir (a checkout, or node_modules/drover). */
export function droverRoot(start = process.cwd()): string {
  const isDrover = (dir: string) => {
    try { return JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).name === "drover"; } catch { return false; }
  };
  if (process.env.DROVER_ROOT && isDrover(process.env.DROVER_ROOT)) return process.env.DROVER_ROOT;
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (isDrover(dir)) return dir;
    if (isDrover(path.join(dir, "node_modules", "drover"))) return path.join(dir, "node_modules", "drover");
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`agent bundle: the drover package was not found above ${start} (set DROVER_ROOT to its directory)`);
}

/** Node's lookup: <dir>/node_modules/<name>, then in each parent. */
function findPackage(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (fs.existsSync(path.join(candidate, "package.json"))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Package dirs of `roots` and everything they depend on (not optional or dev dependencies). */
export function dependencyClosure(root: string, roots: readonly string[] = AGENT_PACKAGES): string[] {
  const seen = new Set<string>();
  const queue: Array<{ name: string; from: string; by: string }> = roots.map((name) => ({ name, from: root, by: "drover" }));
  while (queue.length > 0) {
    const { name, from, by } = queue.shift()!;
    const dir = findPackage(name, from);
    if (!dir) throw new Error(`agent bundle: package ${name} (needed by ${by}) is not installed under ${root}: run npm install`);
    const real = fs.realpathSync(dir);
    if (seen.has(real)) continue;
    seen.add(real);
    const pkg = JSON.parse(fs.readFileSync(path.join(real, "package.json"), "utf8"));
    for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push({ name: dep, from: real, by: name });
  }
  return [...seen].sort();
}

/** Where a package dir goes in the bundle: node_modules/x, or node_modules/x/node_modules/y for a nested copy. */
function bundlePathOf(pkgDir: string, root: string): string {
  for (let base = root; ; base = path.dirname(base)) {
    if (pkgDir.startsWith(path.join(base, "node_modules") + path.sep)) return path.relative(base, pkgDir);
    if (path.dirname(base) === base) throw new Error(`agent bundle: ${pkgDir} is not in a node_modules above ${root}`);
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
export function bundleFiles(root: string): Array<[string, string]> {
  const files: Array<[string, string]> = [
    [path.join(root, "package.json"), "package.json"],
    [path.join(root, "bin", "drover.js"), "bin/drover.js"],
  ];
  for (const sub of ["dist/agent", "dist/runtime"]) {
    const dir = path.join(root, sub);
    if (!fs.existsSync(dir)) throw new Error(`agent bundle: ${sub} is missing in ${root}: run npm run build`);
    for (const f of walk(dir)) files.push([f, path.relative(root, f)]);
  }
  for (const pkgDir of dependencyClosure(root)) {
    const at = bundlePathOf(pkgDir, root);
    for (const f of walk(pkgDir)) files.push([f, path.join(at, path.relative(pkgDir, f))]);
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
