import type * as dgram from "dgram";

/**
 * Stops or restarts reading a bound UDP socket. Node has no public "stop reading" on a dgram
 * socket; its handle has (libuv's recv_stop / recv_start). A handover uses it on both sides:
 * the successor does not read the shared socket until it serves (datagrams wait in the
 * kernel's queue, where the predecessor still answers them), and the retiring daemon stops
 * reading once the successor does. Returns false where this Node's handle lacks it.
 */
export function setUdpReading(udp: dgram.Socket, reading: boolean): boolean {
  const state = Object.getOwnPropertySymbols(udp).find((s) => String(s) === "Symbol(state symbol)");
  const handle = state ? (udp as unknown as Record<symbol, { handle?: { recvStop?: () => number; recvStart?: () => number } }>)[state]?.handle : undefined;
  const call = reading ? handle?.recvStart : handle?.recvStop;
  if (!call) return false;
  try {
    call.call(handle);
    return true;
  } catch {
    return false;
  }
}
