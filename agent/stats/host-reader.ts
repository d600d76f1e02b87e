/**
 * Host counters straight from /proc (cheap: five small files per sample, no process spawned).
 * Network counters are those of the agent's network namespace, which is the host's.
 */
import { promises as fs } from "fs";
import * as path from "path";

export interface HostCounters {
  /** Jiffies: busy and total, summed over all CPUs. */
  cpuBusy: number;
  cpuTotal: number;
  cpus: number;
  memTotalBytes: number;
  memAvailableBytes: number;
  netRxBytes: number;
  netTxBytes: number;
  diskReadBytes: number;
  diskWriteBytes: number;
  load1: number;
}

export function parseProcStat(text: string): { busy: number; total: number; cpus: number } {
  let busy = 0, total = 0, cpus = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("cpu ")) {
      // user nice system idle iowait irq softirq steal (guest time is already inside user)
      const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
      total = v.reduce((a, b) => a + b, 0);
      busy = total - v[3] - (v[4] ?? 0);
    } else if (/^cpu\d+ /.test(line)) cpus++;
  }
  return { busy, total, cpus: Math.max(1, cpus) };
}

export function parseMeminfo(text: string): { total: number; available: number } {
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0) * 1024;
  return { total: kb("MemTotal"), available: kb("MemAvailable") };
}

export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0, tx = 0;
  for (const line of text.split("\n").slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === "lo") continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    rx += f[0] || 0;
    tx += f[8] || 0;
  }
  return { rx, tx };
}

/** Sectors are 512 bytes in /proc/diskstats whatever the device's own sector size. */
export function parseDiskstats(text: string, disks: ReadonlySet<string>): { read: number; write: number } {
  let read = 0, write = 0;
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !disks.has(f[2])) continue;
    read += Number(f[5]) * 512;
    write += Number(f[9]) * 512;
  }
  return { read, write };
}

export class HostReader {
  private disks?: Set<string>;

  constructor(private readonly procRoot = "/proc", private readonly sysBlock = "/sys/block") {}

  async read(): Promise<HostCounters> {
    const p = (name: string) => fs.readFile(path.join(this.procRoot, name), "utf8");
    const [stat, meminfo, netdev, diskstats, loadavg, disks] = await Promise.all([
      p("stat"), p("meminfo"), p("net/dev"), p("diskstats").catch(() => ""), p("loadavg"), this.wholeDisks(),
    ]);
    const cpu = parseProcStat(stat);
    const mem = parseMeminfo(meminfo);
    const net = parseNetDev(netdev);
    const disk = parseDiskstats(diskstats, disks);
    return {
      cpuBusy: cpu.busy, cpuTotal: cpu.total, cpus: cpu.cpus,
      memTotalBytes: mem.total, memAvailableBytes: mem.available,
      netRxBytes: net.rx, netTxBytes: net.tx,
      diskReadBytes: disk.read, diskWriteBytes: disk.write,
      load1: Number(loadavg.split(" ")[0]) || 0,
    };
  }

  /** Whole disks (not partitions, loop or ram devices), so bytes are not counted twice. Listed once. */
  private async wholeDisks(): Promise<Set<string>> {
    if (!this.disks) {
      const names = await fs.readdir(this.sysBlock).catch(() => [] as string[]);
      this.disks = new Set(names.filter((n) => !/^(loop|ram|zram|dm-|md)/.test(n)));
    }
    return this.disks;
  }
}
