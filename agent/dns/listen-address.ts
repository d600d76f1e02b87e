import { execFile } from "child_process";
import { networkInterfaces } from "os";
import { promisify } from "util";

const run = promisify(execFile);

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
  try {
    await run("ip", ["addr", "add", `${address}/32`, "dev", dev]);
    return true;
  } catch (err) {
    if (/File exists/i.test(String((err as { stderr?: string }).stderr ?? ""))) return false;
    throw new Error(`cannot add ${address}/32 to ${dev}: ${String((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`);
  }
}

/** Removes what ensureLocalAddress added; an address already gone is fine. */
export async function removeLocalAddress(address: string, dev = "lo"): Promise<void> {
  try {
    await run("ip", ["addr", "del", `${address}/32`, "dev", dev]);
  } catch (err) {
    if (!/Cannot assign|not found|No such/i.test(String((err as { stderr?: string }).stderr ?? ""))) throw err;
  }
}
