/**
 * A Docker image that boots systemd as PID 1, built from this machine's own installed Debian
 * packages (no registry, no network): systemd, a shell, coreutils and node, with every package
 * they depend on, copied file by file as dpkg lists them and `docker import`ed. The image is
 * cached in Docker's image store (outside the checkout), tagged by what went into it (the
 * systemd and node versions, the package set), so it is built once per machine and version:
 * about 40 s the first time, nothing after.
 */
import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** What the image holds; changing it changes the tag. */
const ROOT_PACKAGES = ["systemd", "bash", "dash", "coreutils", "grep", "sed", "util-linux", "mount", "procps", "nodejs"];
/** Pulled in by some builds of nodejs, never run in the image. */
const SKIPPED = /^(python3|libpython3)/;
const SKIPPED_FILES = /^\/usr\/share\/(doc|man|locale|info|lintian|bash-completion|zsh)\//;
const BUILDER_VERSION = 1;

/** Why this machine cannot run the image (no docker daemon, no systemd or dpkg), or undefined when it can. */
export function systemdImageUnavailable(): string | undefined {
  if (spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { stdio: "ignore" }).status !== 0) return "no Docker daemon answers `docker info`";
  if (!fs.existsSync("/lib/systemd/systemd")) return "systemd is not installed on this machine (/lib/systemd/systemd): the image is built from its packages";
  if (spawnSync("dpkg-query", ["--version"], { stdio: "ignore" }).status !== 0) return "dpkg-query is missing: the image is built from this machine's Debian packages";
  return undefined;
}

export function systemdVersion(): string {
  return execFileSync("dpkg-query", ["-W", "-f=${Version}", "systemd"], { encoding: "utf8" }).trim();
}

/** The image's tag, built first if this machine does not have it yet. */
export function ensureSystemdImage(log: (line: string) => void = () => undefined): string {
  const key = createHash("sha256").update(JSON.stringify([BUILDER_VERSION, systemdVersion(), process.version, ROOT_PACKAGES])).digest("hex").slice(0, 12);
  const tag = `local/drover-systemd:${key}`;
  if (spawnSync("docker", ["image", "inspect", tag], { stdio: "ignore" }).status === 0) return tag;
  const started = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-systemd-image-"));
  try {
    const packages = dependencyClosure(ROOT_PACKAGES);
    const list = path.join(dir, "files");
    fs.writeFileSync(list, packageFiles(packages).map((f) => f.slice(1)).join("\n") + "\n");
    const extra = path.join(dir, "extra");
    writeSkeleton(extra);
    const tarball = path.join(dir, "root.tar");
    execFileSync("tar", ["-C", "/", "-cf", tarball, "--no-recursion", "-T", list], { stdio: ["ignore", "ignore", "pipe"] });
    execFileSync("tar", ["-C", extra, "-rf", tarball, "."]);
    execFileSync("docker", ["import", "-c", 'CMD ["/lib/systemd/systemd"]', "-c", "ENV container=docker", tarball, tag], { stdio: ["ignore", "ignore", "pipe"] });
    log(`built ${tag} from ${packages.length} installed packages in ${Date.now() - started} ms`);
    return tag;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface Installed { deps: string[][]; provides: string[] }

/** The packages and every installed package they depend on (the first installed alternative, or its provider). */
function dependencyClosure(roots: string[]): string[] {
  const out = execFileSync("dpkg-query", ["-W", "-f=${Package}\t${db:Status-Status}\t${Provides}\t${Pre-Depends}, ${Depends}\n"], { encoding: "utf8", maxBuffer: 64 << 20 });
  const installed = new Map<string, Installed>();
  const providers = new Map<string, string>();
  const names = (s: string) => s.split(",").map((part) => part.split("|").map((alt) => alt.replace(/\(.*?\)/g, "").replace(/:any/g, "").trim()).filter(Boolean)).filter((alts) => alts.length > 0);
  for (const line of out.split("\n")) {
    const [pkg, status, provides, deps] = line.split("\t");
    if (status !== "installed") continue;
    installed.set(pkg, { deps: names(deps ?? ""), provides: names(provides ?? "").flat() });
  }
  for (const [pkg, info] of installed) for (const p of info.provides) if (!providers.has(p)) providers.set(p, pkg);
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const pkg = queue.shift()!;
    if (seen.has(pkg) || !installed.has(pkg) || SKIPPED.test(pkg)) continue;
    seen.add(pkg);
    for (const alts of installed.get(pkg)!.deps) {
      const hit = alts.find((a) => installed.has(a)) ?? alts.map((a) => providers.get(a)).find((p) => p !== undefined);
      if (hit) queue.push(hit);
    }
  }
  return [...seen].sort();
}

/**
 * Every file and symlink the packages installed, by its real directory (this machine's /lib,
 * /bin and /sbin are links into /usr: the image gets the same links, once).
 */
function packageFiles(packages: string[]): string[] {
  const listed = execFileSync("dpkg", ["-L", ...packages], { encoding: "utf8", maxBuffer: 64 << 20 }).split("\n");
  const realDirs = new Map<string, string>();
  const files = new Set<string>();
  for (const f of listed) {
    if (!f.startsWith("/") || SKIPPED_FILES.test(f)) continue;
    let st: fs.Stats;
    try { st = fs.lstatSync(f); } catch { continue; }
    if (st.isDirectory()) continue;
    const dir = path.dirname(f);
    let real = realDirs.get(dir);
    if (real === undefined) { real = fs.realpathSync(dir); realDirs.set(dir, real); }
    const file = path.join(real, path.basename(f));
    if (/^\/(bin|sbin|lib|lib32|lib64|libx32)$/.test(file)) continue;
    files.add(file);
  }
  return [...files].sort();
}

/** The root's links and directories, and the few files no package holds (users, machine id). */
function writeSkeleton(root: string): void {
  for (const d of ["etc/systemd/system", "run", "tmp", "var/log", "var/tmp", "var/lib", "root", "proc", "sys", "dev", "opt"]) fs.mkdirSync(path.join(root, d), { recursive: true });
  for (const l of ["bin", "sbin", "lib", "lib64"]) if (fs.existsSync(`/usr/${l}`)) fs.symlinkSync(`usr/${l}`, path.join(root, l));
  fs.writeFileSync(path.join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
  fs.writeFileSync(path.join(root, "etc/group"), "root:x:0:\nsystemd-journal:x:101:\nnogroup:x:65534:\n");
  fs.writeFileSync(path.join(root, "etc/machine-id"), "");
  fs.symlinkSync("/usr/lib/systemd/system/multi-user.target", path.join(root, "etc/systemd/system/default.target"));
}
