/** The driver for a Host's `driver` input (already checked). */
import { digitalOceanDriver, type DigitalOceanContext } from "./digitalocean";
import { localDriver } from "./local";
import { sshDriver } from "./ssh";
import type { DriverInputs, HostDriver } from "./types";

/**
 * `recordedHostKey`: for ssh, the host key fingerprint the Pulumi state recorded at the first connection.
 * `cloud`: what a cloud driver needs besides its inputs (the environment, waits, what it made before).
 */
export function driverFor(d: DriverInputs, hostname: string, recordedHostKey?: string, cloud?: Omit<DigitalOceanContext, "recordedHostKey">): HostDriver {
  if (d.type === "ssh") return sshDriver(d, hostname, recordedHostKey);
  if (d.type === "local") return localDriver(d, hostname);
  if (d.type === "digitalocean") return digitalOceanDriver(d, hostname, { envId: "", waitMs: 180_000, ...cloud, recordedHostKey });
  throw new Error(`driver.type: expected "ssh", "local" or "digitalocean", got ${JSON.stringify((d as { type?: unknown }).type)}`);
}
