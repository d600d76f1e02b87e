/**
 * Free space on a host's Docker data root, as a hard scheduling rule: a host whose data root
 * is (nearly) full takes no new instances, since pulling or creating a container there fails
 * with "no space left on device". Kubernetes does the same with its DiskPressure condition.
 * Instances already on the host stay: a filling disk never moves running containers.
 *
 * The reserve a host keeps free is max(1 GiB, 5% of the data root) by default, or what the
 * host label `io.drover.scheduler.docker_disk_reserve` says: bytes with a unit (`512MiB`,
 * `2GB`), a share of the data root (`10%`), or `0` to never avoid the host for its disk.
 * A host whose agent reported no figure yet is taken as having room. Pure.
 */

import type { DockerDiskSpace } from "../protocol/stats";

/** What agents report in their stats samples (runtime/protocol/stats.ts HostStats). */
export type { DockerDiskSpace };

import { DEFAULT_DISK_RESERVE, DOCKER_DISK_RESERVE_LABEL, parseDiskReserve } from "../protocol/disk-reserve";

export { DEFAULT_DISK_RESERVE, DOCKER_DISK_RESERVE_LABEL, diskReserveLabelProblem, parseDiskReserve, type DiskReserve } from "../protocol/disk-reserve";

/** Bytes the host must keep free on its data root; an unreadable label falls back to the default. */
export function diskReserveBytes(totalBytes: number, labels: Record<string, string>): number {
  const key = Object.keys(labels).find((k) => k.toLowerCase() === DOCKER_DISK_RESERVE_LABEL);
  const parsed = key === undefined ? undefined : parseDiskReserve(String(labels[key]));
  if (parsed === undefined || typeof parsed === "string") return Math.max(DEFAULT_DISK_RESERVE.bytes, DEFAULT_DISK_RESERVE.share * totalBytes);
  return "bytes" in parsed ? parsed.bytes : parsed.share * totalBytes;
}

/**
 * Why the host takes no new instance for its disk (`docker data root nearly full: 0 B free of
 * 160 MiB, keeps 8.0 MiB free`), or undefined when it has room or reported no figure.
 */
export function dockerDiskShortage(disk: DockerDiskSpace | undefined, labels: Record<string, string>): string | undefined {
  if (!disk || !Number.isFinite(disk.freeBytes) || !Number.isFinite(disk.totalBytes) || disk.totalBytes <= 0) return undefined;
  const reserve = diskReserveBytes(disk.totalBytes, labels);
  if (reserve <= 0 || disk.freeBytes >= reserve) return undefined;
  return `docker data root nearly full: ${formatBytes(disk.freeBytes)} free of ${formatBytes(disk.totalBytes)}, keeps ${formatBytes(reserve)} free`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.max(0, Math.round(n))} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(1)} ${units[u]}`;
}
