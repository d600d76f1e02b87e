/**
 * Takes one StatsSample: host counters from /proc, each running container's from its cgroup
 * files, turned into rates against the previous reading. Container cgroup paths are looked
 * up once per container (one inspect), then only files are read.
 */
import { promises as fs } from "fs";
import type { ContainerStats, StatsSample } from "../../runtime/protocol/stats";
import { cgroupFiles, CgroupFiles, readCgroup } from "./cgroup-reader";
import { HostCounters, HostReader } from "./host-reader";

/** A running container to sample. */
export interface SampledContainer {
  id: string;
  name: string;
  instanceId?: string;
}

export interface SamplerSources {
  /** The running containers (drover's, on this host). */
  list(): Promise<SampledContainer[]>;
  /** The container's init pid (docker inspect), undefined when it is gone. */
  pid(id: string): Promise<number | undefined>;
  /** Free and total bytes of Docker's data root filesystem, undefined when unknown. */
  dockerDisk?(): Promise<{ freeBytes: number; totalBytes: number } | undefined>;
  host?: HostReader;
  procRoot?: string;
  cgroupRoot?: string;
  now?: () => number;
}

interface Previous {
  files: CgroupFiles;
  cpuNs?: number;
  t?: number;
}

export class StatsSampler {
  private readonly host: HostReader;
  private readonly containers = new Map<string, Previous>();
  private prevHost?: { counters: HostCounters; t: number };

  constructor(private readonly sources: SamplerSources) {
    this.host = sources.host ?? new HostReader(sources.procRoot);
  }

  async sample(): Promise<StatsSample> {
    const now = this.sources.now ?? Date.now;
    const [counters, list, disk] = await Promise.all([this.host.read(), this.sources.list(), this.sources.dockerDisk?.().catch(() => undefined)]);
    const t = now();
    const prev = this.prevHost;
    this.prevHost = { counters, t };
    const secs = prev ? Math.max(0.001, (t - prev.t) / 1000) : 0;
    const rate = (a: number, b: number) => (prev && a >= b ? (a - b) / secs : 0);
    const cpuSpan = prev ? counters.cpuTotal - prev.counters.cpuTotal : 0;
    const host = {
      cpu: prev && cpuSpan > 0 ? Math.min(1, Math.max(0, (counters.cpuBusy - prev.counters.cpuBusy) / cpuSpan)) : 0,
      cpus: counters.cpus,
      memUsedBytes: counters.memTotalBytes - counters.memAvailableBytes,
      memTotalBytes: counters.memTotalBytes,
      netRxBps: rate(counters.netRxBytes, prev?.counters.netRxBytes ?? 0),
      netTxBps: rate(counters.netTxBytes, prev?.counters.netTxBytes ?? 0),
      diskReadBps: rate(counters.diskReadBytes, prev?.counters.diskReadBytes ?? 0),
      diskWriteBps: rate(counters.diskWriteBytes, prev?.counters.diskWriteBytes ?? 0),
      load1: counters.load1,
      ...(disk ? { dockerDiskFreeBytes: disk.freeBytes, dockerDiskTotalBytes: disk.totalBytes } : {}),
    };
    const seen = new Set(list.map((c) => c.id));
    for (const id of this.containers.keys()) if (!seen.has(id)) this.containers.delete(id);
    const containers = (await Promise.all(list.map((c) => this.container(c, now)))).filter((c): c is ContainerStats => c !== undefined);
    return { t, host, containers };
  }

  private async container(c: SampledContainer, now: () => number): Promise<ContainerStats | undefined> {
    try {
      let prev = this.containers.get(c.id);
      if (!prev) {
        const pid = await this.sources.pid(c.id);
        if (!pid) return undefined;
        const procCgroup = await fs.readFile(`${this.sources.procRoot ?? "/proc"}/${pid}/cgroup`, "utf8");
        const files = await cgroupFiles(procCgroup, this.sources.cgroupRoot);
        if (!files) return undefined;
        prev = { files };
        this.containers.set(c.id, prev);
      }
      const { cpuNs, memBytes } = await readCgroup(prev.files);
      const t = now();
      const cpu = prev.cpuNs !== undefined && prev.t !== undefined && t > prev.t && cpuNs >= prev.cpuNs
        ? (cpuNs - prev.cpuNs) / 1e6 / (t - prev.t) : 0;
      prev.cpuNs = cpuNs;
      prev.t = t;
      return { name: c.name, ...(c.instanceId ? { instanceId: c.instanceId } : {}), cpu, memBytes };
    } catch {
      // Gone between the list and the read (or its cgroup with it): looked up afresh if it comes back.
      this.containers.delete(c.id);
      return undefined;
    }
  }
}
