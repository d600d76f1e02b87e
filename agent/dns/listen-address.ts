import { networkInterfaces } from "os";
import { runCmd } from "../network/exec";

/** Whether some interface of this network namespace holds `address`. */
export function hasLocalAddress(address: string): boolean {
  return Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === address));
}

/**
 * Puts `address`/32 on `lo` unless an interface already has it (the overlay code may have put
 * it there, or on the bridge). Idempotent, and a race with another adder counts as success.
 * Returns whether this call added it: only then may the caller remove it again.
 */
export async function ensureLocalAddress(address: string, dev = "lo"): Promise<boolean> {
  if (hasLocalAddress(address)) return false;
  const r = await runCmd("ip", ["addr", "add", `${address}/32`, "dev", dev]);
  if (r.code === 0) return true;
  if (/File exists/i.test(r.stderr)) return false;
  throw new Error(`cannot add ${address}/32 to ${dev}: ${r.stderr.trim()}`);
}

/** Removes what ensureLocalAddress added; an address already gone is fine. */
export async function removeLocalAddress(address: string, dev = "lo"): Promise<void> {
  const r = await runCmd("ip", ["addr", "del", `${address}/32`, "dev", dev]);
  if (r.code !== 0 && !/Cannot assign|not found|No such/i.test(r.stderr)) throw new Error(`cannot remove ${address}/32 from ${dev}: ${r.stderr.trim()}`);
}
