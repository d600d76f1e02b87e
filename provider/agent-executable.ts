/**
 * The single-executable agent: `drover agent` for a host that has Docker but no node. The
 * agent's compiled code (dist/agent/executable-main.js and everything it requires) is bundled
 * by esbuild into one CommonJS file and injected into a copy of the node binary running this
 * code, as Node's single executable applications do (`node --experimental-sea-config`, then
 * postject). Uploaded gzipped (a third of the size), unpacked on the host.
 *
 * No native module is needed: ssh2 (a dependency of docker-modem, used only for ssh://
 * Docker hosts, which the agent never dials) is replaced by a stub, so neither its optional
 * crypto binding nor cpu-features is bundled; the build fails if any .node file is reached.
 *
 * Built once per drover version, bundle content and node binary, cached under $DROVER_CACHE
 * (or the temp dir) like the agent tarball (agent-bundle.ts), so tests and CI build it once.
 * Runs in the dynamic-provider process: nothing at module scope but constants.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { droverRoot } from "./agent-bundle";

export interface AgentExecutable {
  /** drover-agent-exe-<version>-<hash16>: also the directory it unpacks to on a host. */
  name: string;
  /** The gzipped executable in the cache (what is uploaded). */
  file: string;
  /** sha256 of the gzipped file, compared with the host's copy. */
  sha256: string;
  version: string;
  /** `uname -m` of the machines it runs on (the architecture of the node it was made from). */
  machine: string;
  /** Size of the executable itself, unpacked. */
  bytes: number;
}

/** The file name of the executable inside its directory on a host. */
export const EXECUTABLE_NAME = "drover-agent";

/** process.arch → what `uname -m` prints on such a machine. */
const UNAME_M: Record<string, string> = { x64: "x86_64", arm64: "aarch64", arm: "armv7l", ppc64: "ppc64le", s390x: "s390x" };

/** The sentinel every Node ≥ 18.16 binary carries for single executable applications. */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

/** What docker-modem gets for require("ssh2"): it only constructs a Client for ssh:// hosts. */
const SSH2_STUB = "module.exports={Client:class{constructor(){throw new Error(\"the drover agent executable has no ssh client: use a unix socket or tcp Docker host\")}}};";

/** The cached build a meta file names, if both are there. */
function readMeta(metaFile: string, cacheDir: string): { file: string; sha256: string; bytes: number } | undefined {
  try {
    const meta = JSON.parse(fs.readFileSync(metaFile, "utf8")) as { sha256: string; bytes: number; file: string };
    const file = path.join(cacheDir, path.basename(meta.file));
    return fs.existsSync(file) ? { file, sha256: meta.sha256, bytes: meta.bytes } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Keeps the `keep` newest builds, and any gz younger than an hour (another build of the same
 * key may have just been superseded while its upload runs).
 */
function pruneCache(cacheDir: string, keep: number): void {
  const age = (f: string) => { try { return fs.statSync(path.join(cacheDir, f)).mtimeMs; } catch { return 0; } };
  const metas = fs.readdirSync(cacheDir).filter((f) => /^drover-agent-exe-.*\.json$/.test(f)).sort((a, b) => age(b) - age(a));
  for (const f of metas.slice(keep)) fs.rmSync(path.join(cacheDir, f), { force: true });
  const named = new Set(metas.slice(0, keep).map((f) => readMeta(path.join(cacheDir, f), cacheDir)?.file).filter(Boolean).map((f) => path.basename(f!)));
  for (const f of fs.readdirSync(cacheDir).filter((x) => /^drover-agent-exe-.*\.gz$/.test(x))) {
    if (!named.has(f) && Date.now() - age(f) > 3600_000) fs.rmSync(path.join(cacheDir, f), { force: true });
  }
}

/** The agent as one CommonJS file (esbuild, from the compiled dist/), with the version built in. */
export async function bundleAgentCode(root: string, version: string): Promise<string> {
  const entry = path.join(root, "dist", "agent", "executable-main.js");
  if (!fs.existsSync(entry)) throw new Error(`agent executable: ${entry} is missing: run npm run build`);
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [entry], bundle: true, platform: "node", format: "cjs", target: "node20", write: false,
    absWorkingDir: root, logLevel: "silent", legalComments: "none", sourcemap: false,
    define: { DROVER_BUILT_VERSION: JSON.stringify(version) },
    plugins: [{
      name: "drover-agent-no-native",
      setup(b) {
        b.onResolve({ filter: /^ssh2$/ }, () => ({ path: "ssh2", namespace: "drover-stub" }));
        b.onLoad({ filter: /.*/, namespace: "drover-stub" }, () => ({ contents: SSH2_STUB, loader: "js" }));
        b.onResolve({ filter: /\.node$/ }, (a) => ({ errors: [{ text: `native module ${a.path} (required by ${a.importer}) cannot go into the agent executable` }] }));
      },
    }],
  });
  return result.outputFiles[0].text;
}

/** Builds the executable, or finds it in the cache (same version, code and node → same file). */
export async function agentExecutable(root = droverRoot()): Promise<AgentExecutable> {
  const version = String(JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version);
  const machine = UNAME_M[process.arch] ?? process.arch;
  const code = await bundleAgentCode(root, version);
  const nodeBinary = fs.realpathSync(process.execPath);
  const nodeStat = fs.statSync(nodeBinary);
  const key = crypto.createHash("sha256")
    .update(`${code}\0${process.version}\0${process.arch}\0${nodeBinary}\0${nodeStat.size}\0${nodeStat.mtimeMs}`).digest("hex").slice(0, 16);
  const name = `drover-agent-exe-${version}-${key}`;
  const cacheDir = path.join(process.env.DROVER_CACHE || os.tmpdir(), "agent-executables");
  // The gz is named by its own sha256 and the meta file, written last, names it: builds of one
  // key running at once (Pulumi creates hosts in parallel) each leave a consistent pair, and a
  // reader never gets one build's sha256 with another's bytes.
  const metaFile = path.join(cacheDir, `${name}.json`);
  const cached = readMeta(metaFile, cacheDir);
  if (cached) return { name, ...cached, version, machine };
  fs.mkdirSync(cacheDir, { recursive: true });
  const staging = fs.mkdtempSync(path.join(cacheDir, `.${name}-`));
  try {
    const main = path.join(staging, "agent.cjs");
    const blob = path.join(staging, "agent.blob");
    const exe = path.join(staging, EXECUTABLE_NAME);
    fs.writeFileSync(main, code);
    const config = path.join(staging, "sea-config.json");
    // The code cache is made by this node for this node: it saves the agent's start-up compile.
    fs.writeFileSync(config, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
    execFileSync(process.execPath, ["--experimental-sea-config", config], { cwd: staging, stdio: ["ignore", "pipe", "pipe"] });
    fs.copyFileSync(nodeBinary, exe);
    fs.chmodSync(exe, 0o755);
    // In a child: postject's LIEF prints harmless ELF warnings to stderr, shown only if it fails.
    execFileSync(process.execPath, [require.resolve("postject/dist/cli.js"), exe, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE],
      { cwd: staging, stdio: ["ignore", "pipe", "pipe"] });
    const bytes = fs.statSync(exe).size;
    const gz = zlib.gzipSync(fs.readFileSync(exe), { level: 6 });
    const sha256 = crypto.createHash("sha256").update(gz).digest("hex");
    const file = path.join(cacheDir, `${name}-${sha256.slice(0, 16)}.gz`);
    fs.writeFileSync(path.join(staging, "out.gz"), gz);
    fs.renameSync(path.join(staging, "out.gz"), file);
    fs.writeFileSync(path.join(staging, "out.json"), JSON.stringify({ sha256, bytes, file: path.basename(file) }));
    fs.renameSync(path.join(staging, "out.json"), metaFile);
    pruneCache(cacheDir, 3);
    return { name, file, sha256, bytes, version, machine };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
