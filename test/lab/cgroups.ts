import * as fs from "fs";
import * as path from "path";
import { waitFor } from "../support/wait";

/**
 * Cgroups of a lab host. Docker puts containers under `--cgroup-parent /<host>` in every
 * hierarchy; the lab puts every process it starts for the host (holder, dockerd, sshd,
 * exec/spawn) into `<host>/lab` of one hierarchy, so teardown can find every descendant,
 * including containerd shims that were re-parented away from dockerd.
 */
const ROOT = "/sys/fs/cgroup";

function isCgroup2Root(): boolean {
  return fs.existsSync(path.join(ROOT, "cgroup.controllers"));
}

/** The hierarchy used for tracking: the v1 pids controller, or the v2 root. */
function trackingRoot(): string {
  if (isCgroup2Root()) return ROOT;
  const pids = path.join(ROOT, "pids");
  if (fs.existsSync(path.join(pids, "cgroup.procs"))) return pids;
  throw new Error(`no pids cgroup hierarchy at ${pids}: the lab needs cgroup v1 with pids, or cgroup v2`);
}

/** Creates <host>/lab and returns its cgroup.procs path (write a pid there to adopt it). */
export function createTrackingCgroup(hostName: string): string {
  const dir = path.join(trackingRoot(), hostName, "lab");
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, "cgroup.procs");
}

/** Every cgroup directory named <prefix>* directly under any hierarchy (or the v2 root). */
export function cgroupDirsWithPrefix(prefix: string): string[] {
  const roots = isCgroup2Root() ? [ROOT] : fs.readdirSync(ROOT).map((d) => path.join(ROOT, d));
  const out: string[] = [];
  for (const r of roots) {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(r, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) if (e.isDirectory() && e.name.startsWith(prefix)) out.push(path.join(r, e.name));
  }
  return out;
}

/** Pids in a cgroup and all its descendants. */
export function pidsInTree(dir: string): number[] {
  const pids: number[] = [];
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
      for (const line of fs.readFileSync(path.join(d, "cgroup.procs"), "utf8").split("\n")) {
        if (line.trim()) pids.push(Number(line));
      }
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
  };
  walk(dir);
  return pids;
}

function removeTreeOnce(dir: string): void {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  for (const e of entries) if (e.isDirectory()) removeTreeOnce(path.join(dir, e.name));
  fs.rmdirSync(dir);
}

/**
 * Removes a cgroup tree, deepest first. A cgroup whose last process just exited can stay
 * busy for a moment (EBUSY), hence the retry with a deadline.
 */
export async function removeCgroupTree(dir: string): Promise<void> {
  await waitFor(() => {
    removeTreeOnce(dir);
    return !fs.existsSync(dir);
  }, { what: `cgroup ${dir} to be removable`, timeoutMs: 5000 });
}
