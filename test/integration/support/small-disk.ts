import type { LabHost } from "../../lab";

/**
 * A lab host whose Docker data root is a small tmpfs, to fill on purpose ("a host's disk
 * filled"): mounted in the host's own mount namespace (it goes away with the host, nothing
 * left in the root namespace), the data so far (the imported image) copied onto it. dockerd is
 * restarted around the move, so call it before anything runs on the host.
 */
export class SmallDisk {
  private constructor(private readonly host: LabHost, readonly mount: string) {}

  static async onDataRoot(host: LabHost, sizeMb: number): Promise<SmallDisk> {
    const root = `${host.dir}/docker`;
    const mount = `${host.dir}/docker-tmpfs`;
    await host.stopDockerd();
    const r = await host.exec(["sh", "-c", `mkdir -p ${mount} && mount -t tmpfs -o size=${sizeMb}m tmpfs ${mount} && cp -a ${root}/. ${mount}/ && mount --bind ${mount} ${root}`], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`tmpfs data root on ${host.name}: ${r.stderr.trim()}`);
    await host.startDockerd();
    return new SmallDisk(host, mount);
  }

  /** Takes every free byte (fallocate); returns df's line for the mount. */
  async fill(): Promise<string> {
    const r = await this.host.exec(["sh", "-c", `fallocate -l $(( $(stat -f -c '%a * %S' ${this.mount}) )) ${this.mount}/filler && df -k ${this.mount} | tail -1`], { timeoutMs: 20_000 });
    if (r.code !== 0) throw new Error(`filling ${this.mount} on ${this.host.name}: ${r.stderr.trim()}`);
    return r.stdout.trim();
  }

  async free(): Promise<void> {
    const r = await this.host.exec(["rm", "-f", `${this.mount}/filler`]);
    if (r.code !== 0) throw new Error(`freeing ${this.mount} on ${this.host.name}: ${r.stderr.trim()}`);
  }
}
