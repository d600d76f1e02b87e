import * as crypto from "crypto";
import * as path from "path";

/**
 * Every name a lab run uses derives from its run id, so a run can be found and removed from
 * the id alone (even when its state file is lost) and two runs never share a name.
 *
 *   run id      a1b2c3 (6 hex chars)
 *   host        drv-a1b2c3-h1   netns name, hostname, docker --cgroup-parent, dir name
 *   switch      drv-a1b2c3-sw   netns holding the underlay bridge br0
 *   root leg    drv-a1b2c3-gw   veth in the root namespace carrying the gateway address
 */
export const NAME_PREFIX = "drv-";
/** Linux interface names are at most 15 characters (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15;

export function newRunId(): string {
  return crypto.randomBytes(3).toString("hex");
}

export function isRunId(s: string): boolean {
  return /^[0-9a-f]{6}$/.test(s);
}

/** Root of all lab state: $DROVER_STATE/lab (default /var/lib/drover/lab). */
export function labRoot(): string {
  return path.join(process.env.DROVER_STATE ?? "/var/lib/drover", "lab");
}

export class RunNames {
  constructor(readonly runId: string) {
    if (!isRunId(runId)) throw new Error(`bad lab run id "${runId}" (want 6 hex chars)`);
  }

  /** Prefix shared by every namespace, cgroup and root-side link of the run. */
  get prefix(): string { return `${NAME_PREFIX}${this.runId}-`; }
  get runDir(): string { return path.join(labRoot(), this.runId); }
  get stateFile(): string { return path.join(labRoot(), `${this.runId}.json`); }
  get switchNs(): string { return `${this.prefix}sw`; }
  get rootLink(): string { return `${this.prefix}gw`; }
  /** The root leg's peer, inside the switch namespace. */
  readonly switchGwPort = "gw";
  readonly bridge = "br0";
  /** The host's underlay interface, inside its own namespace. */
  readonly hostLink = "eth0";

  host(index: number): HostNames {
    return new HostNames(this, index);
  }
}

export class HostNames {
  constructor(readonly run: RunNames, readonly index: number) {
    if (!Number.isInteger(index) || index < 1 || index > 200) throw new Error(`bad host index ${index}`);
  }

  /** drv-<runid>-h<i>: netns, hostname and cgroup parent all use this one name. */
  get name(): string { return `${this.run.prefix}h${this.index}`; }
  get netns(): string { return this.name; }
  get dir(): string { return path.join(this.run.runDir, this.name); }
  /** The host's port on the underlay bridge, inside the switch namespace. */
  get switchPort(): string { return `h${this.index}`; }
  /** docker --cgroup-parent: containers land in /sys/fs/cgroup/<ctrl>/<name>/<id>. */
  get cgroupParent(): string { return `/${this.name}`; }
}

for (const n of [new RunNames("000000").rootLink, new RunNames("000000").host(200).name]) {
  if (n.length > IFNAME_MAX) throw new Error(`lab name ${n} longer than ${IFNAME_MAX}`);
}
