/** The driver for a Host's `driver` input (already checked). */
import { localDriver } from "./local";
import { sshDriver } from "./ssh";
import type { DriverInputs, HostDriver } from "./types";

/** `recordedHostKey`: for ssh, the host key fingerprint the Pulumi state recorded at the first connection. */
export function driverFor(d: DriverInputs, hostname: string, recordedHostKey?: string): HostDriver {
  if (d.type === "ssh") return sshDriver(d, hostname, recordedHostKey);
  if (d.type === "local") return localDriver(d, hostname);
  throw new Error(`driver.type: expected "ssh" or "local", got ${JSON.stringify((d as { type?: unknown }).type)}`);
}
