import { spawn, SpawnOptions, ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { waitFor, WaitAbort } from "../support/wait";
import { HostNames } from "./names";
import { nsInode, ProcRef, procRef, isAlive, runOk, tailFile, cmdline } from "./proc";

/**
 * A host's mount and UTS namespaces. `ip netns exec` would remount /sys and hide the cgroup
 * v1 mounts (dockerd then dies with "Devices cgroup isn't mounted"), so instead a small
 * "holder" process is started with nsenter --net + unshare -m -u (private propagation) and
 * kept alive; every other process of the host enters its namespaces with nsenter -t <holder>.
 * The holder is `tail -f <hostdir>/holder.keep`: it does nothing, and its command line names
 * the run dir, so a leftover one is easy to spot.
 */

/**
 * Runs inside the new mount namespace, once:
 * - unmounts the nsfs mounts copied from the root namespace (/run/netns/*, a root dockerd's
 *   netns files): they would keep other runs' network namespaces alive until this one ends.
 *   One that vanished meanwhile is as good as unmounted: another run deleting its namespace
 *   unlinks the mount point, which detaches this copy too (Linux >= 3.18), and umount then
 *   failed with "no mount point specified" (sidekicks and tls-underlay, set-up failures in one
 *   suite run while a neighbour's lab came down);
 * - fresh sysfs for this network namespace, with the cgroup mounts moved back on top;
 * - hostname, a private /etc/docker (own key.json, hence own engine ID) and a private /run
 *   (own docker.sock, docker.pid, sshd privsep dir, containerd shim sockets).
 * $1 = host dir, $2 = hostname.
 */
const SETUP_SCRIPT = String.raw`set -eu
H="$1"
mounted() { awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo; }
awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i+1) == "nsfs") print $5; break } }' /proc/self/mountinfo \
  | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || ! mounted "$m" || { echo "lab-setup: could not unmount $m" >&2; exit 1; }; done
mkdir -p "$H/cgroup-move"
mount --rbind /sys/fs/cgroup "$H/cgroup-move"
mount -t sysfs sysfs /sys
mount --move "$H/cgroup-move" /sys/fs/cgroup
hostname "$2"
mkdir -p /etc/docker
mount --bind "$H/etc-docker" /etc/docker
mount --bind "$H/run" /run
mkdir -p /run/sshd
`;

/** argv prefix that puts a process into the tracking cgroup, then runs the rest of argv. */
export function adoptArgv(cgroupProcs: string, argv: string[]): string[] {
  return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', cgroupProcs, ...argv];
}

/** argv prefix that enters the host: its network, mount and UTS namespaces. */
export function enterArgv(holder: ProcRef, argv: string[], cwd?: string): string[] {
  if (!isAlive(holder)) throw new Error(`lab host namespace holder pid ${holder.pid} is gone`);
  return ["nsenter", "-t", String(holder.pid), "-n", "-m", "-u", ...(cwd ? [`--wd=${cwd}`] : []), "--", ...argv];
}

/**
 * Starts a process detached from the caller (own session, output to a log file), so it
 * outlives the node process that started it: `drover lab up` exits, the daemons stay.
 */
export function spawnDetached(argv: string[], logFile: string, opts: SpawnOptions = {}): ChildProcess {
  const fd = fs.openSync(logFile, "a");
  try {
    const child = spawn(argv[0], argv.slice(1), { ...opts, detached: true, stdio: ["ignore", fd, fd] });
    child.on("error", () => { /* reported through the readiness wait */ });
    child.unref();
    return child;
  } finally {
    fs.closeSync(fd);
  }
}

export async function startHolder(host: HostNames, cgroupProcs: string): Promise<ProcRef> {
  const keep = path.join(host.dir, "holder.keep");
  const log = path.join(host.dir, "logs", "holder.log");
  fs.writeFileSync(keep, "");
  const child = spawnDetached(adoptArgv(cgroupProcs, [
    "nsenter", `--net=/run/netns/${host.netns}`, "--",
    "unshare", "-m", "-u", "--propagation", "private", "--",
    "tail", "-f", keep,
  ]), log);
  if (!child.pid) throw new Error(`could not start the namespace holder of ${host.name}: ${tailFile(log)}`);
  const pid = child.pid;
  const ref = await waitFor(() => {
    const r = procRef(pid);
    if (!r || !isAlive(r)) throw new WaitAbort(`holder of ${host.name} exited: ${tailFile(log)}`);
    // Ready once the exec chain reached tail, i.e. the namespaces exist.
    return cmdline(pid).startsWith("tail ") && nsInode(pid, "mnt") !== nsInode(process.pid, "mnt") ? r : undefined;
  }, { what: `namespace holder of ${host.name}`, timeoutMs: 10_000 });
  await runOk(adoptArgv(cgroupProcs, enterArgv(ref, ["sh", "-c", SETUP_SCRIPT, "lab-setup", host.dir, host.name])));
  return ref;
}
