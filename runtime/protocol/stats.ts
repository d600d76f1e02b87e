/**
 * Host and container stats, as agents publish them (one entry per sample in the host's
 * `stats` stream, keys.ts) and the dashboard's websocket forwards them. Each sample carries
 * rates computed by the agent from two readings, so any one sample plots on its own and a
 * client resuming after a gap needs no earlier sample.
 */

/** How often an agent samples. */
export const statsIntervalMs = 2_000;
/** Samples kept in the host's stream: five minutes at the interval above (MAXLEN ~, so a few more). */
export const statsHistoryLength = 150;

export interface HostStats {
  /** Share of all CPUs busy since the previous sample, 0..1. */
  cpu: number;
  /** Number of CPUs (cpu 1.0 = all of them busy). */
  cpus: number;
  memUsedBytes: number;
  memTotalBytes: number;
  /** Bytes per second over every interface but loopback (the host's network namespace). */
  netRxBps: number;
  netTxBps: number;
  /** Bytes per second read from and written to whole disks. */
  diskReadBps: number;
  diskWriteBps: number;
  /** 1-minute load average. */
  load1: number;
  /**
   * Space on the filesystem of Docker's data root (where images and containers' layers are
   * written), when the agent could read it: a full one makes new containers fail there.
   */
  dockerDiskFreeBytes?: number;
  dockerDiskTotalBytes?: number;
}

/** A data root's space as the scheduler reads it (runtime/scheduler/docker-disk.ts). */
export interface DockerDiskSpace {
  freeBytes: number;
  totalBytes: number;
}

/**
 * The data root's space in one stats stream entry's fields (`s` holds the sample's JSON; a
 * host's first entry is the registration marker), or undefined when it carries none.
 */
export function dockerDiskOfEntry(fields: string[]): DockerDiskSpace | undefined {
  const at = fields.indexOf("s");
  if (at < 0 || at % 2 !== 0 || at + 1 >= fields.length) return undefined;
  let host: Partial<HostStats> | undefined;
  try {
    host = (JSON.parse(fields[at + 1]) as Partial<StatsSample>).host;
  } catch {
    return undefined;
  }
  const free = host?.dockerDiskFreeBytes, total = host?.dockerDiskTotalBytes;
  if (typeof free !== "number" || typeof total !== "number" || !Number.isFinite(free) || !Number.isFinite(total) || total <= 0) return undefined;
  return { freeBytes: Math.max(0, free), totalBytes: total };
}

export interface ContainerStats {
  /** Docker container name (the instance's name). */
  name: string;
  /** drover instance id, when the container is one of drover's. */
  instanceId?: string;
  /** CPU seconds per second since the previous sample (1.0 = one CPU busy). */
  cpu: number;
  memBytes: number;
}

export interface StatsSample {
  /** Milliseconds since the epoch when the sample was taken. */
  t: number;
  host: HostStats;
  containers: ContainerStats[];
}

/** One sample as it travels to a dashboard: which host, and its stream id to resume after. */
export interface StatsMessage {
  type: "sample";
  hostId: string;
  /** The Redis stream id; a client resumes with the greatest it has seen per host. */
  id: string;
  sample: StatsSample;
}

/** Websocket close codes of the stats stream (4000-4999 are the application's). */
export const statsCloseCodes = {
  /** The client read too slowly: its send buffer passed the limit. */
  slowClient: 4008,
  /** The environment went away, or the server is shutting down. */
  goingAway: 1001,
  /** A client frame larger than the limit (ws's own code). */
  tooBig: 1009,
  /** Clients send nothing but control frames; any data frame is refused. */
  unexpectedData: 1003,
} as const;
