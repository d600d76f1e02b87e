/**
 * The host label that sets how much of its Docker data root a host keeps free
 * (`io.drover.scheduler.docker_disk_reserve`): its parser, shared by the scheduler
 * (runtime/scheduler/docker-disk.ts), the API's validators and the provider's check().
 * Bytes with a unit (`512MiB`, `2GB`), a share of the data root (`10%`), or `0`. Pure.
 */

/** The host label that sets the reserve (a user label: host labels are set by users, not only drover). */
export const DOCKER_DISK_RESERVE_LABEL = "io.drover.scheduler.docker_disk_reserve";

const GiB = 1024 ** 3;
/** The default reserve: the larger of these two. */
export const DEFAULT_DISK_RESERVE = { bytes: GiB, share: 0.05 } as const;

/** A reserve as the label gives it: a number of bytes or a share of the data root. */
export type DiskReserve = { bytes: number } | { share: number };

const UNITS: Record<string, number> = {
  "": 1, b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  k: 1024, m: 1024 ** 2, g: GiB, t: 1024 ** 4,
  kib: 1024, mib: 1024 ** 2, gib: GiB, tib: 1024 ** 4,
};

/** Parses the label's value; a string saying what was expected when it is not one. */
export function parseDiskReserve(value: string): DiskReserve | string {
  const expected = "expected a size such as 2GiB, 500MB or 0, or a share of the data root such as 10%";
  const v = value.trim().toLowerCase();
  const share = /^(\d+(?:\.\d+)?)\s*%$/.exec(v);
  if (share) {
    const n = Number(share[1]);
    return n <= 100 ? { share: n / 100 } : `${expected} (a share is at most 100%), got ${JSON.stringify(value)}`;
  }
  const size = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(v);
  if (size && UNITS[size[2]] !== undefined) return { bytes: Math.round(Number(size[1]) * UNITS[size[2]]) };
  return `${expected}, got ${JSON.stringify(value)}`;
}

/** The label's problem, or undefined when the labels set no reserve or a valid one (for validators). */
export function diskReserveLabelProblem(labels: Record<string, string>): { key: string; message: string } | undefined {
  for (const [key, value] of Object.entries(labels)) {
    if (key.toLowerCase() !== DOCKER_DISK_RESERVE_LABEL) continue;
    const parsed = parseDiskReserve(String(value));
    if (typeof parsed === "string") return { key, message: parsed };
  }
  return undefined;
}
