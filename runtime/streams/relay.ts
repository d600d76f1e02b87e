/**
 * Relays frames between the client's and the agent's websockets as they are, with
 * back-pressure: when one side's unsent data passes a high-water mark the other side stops
 * being read (TCP then slows the sender) until it drains. Either side closing closes the other.
 */
import type WebSocket from "ws";

const HIGH_WATER_BYTES = 4 * 1024 * 1024;

export function relay(a: WebSocket, b: WebSocket): void {
  pipe(a, b);
  pipe(b, a);
  const closeOther = (other: WebSocket) => (code: number, reason: Buffer) => {
    if (other.readyState === other.OPEN) other.close(closable(code), reason);
    else if (other.readyState === other.CONNECTING) other.terminate();
  };
  a.once("close", closeOther(b));
  b.once("close", closeOther(a));
  a.on("error", () => b.terminate());
  b.on("error", () => a.terminate());
}

function pipe(from: WebSocket, to: WebSocket): void {
  let paused = false;
  from.on("message", (data, isBinary) => {
    if (to.readyState !== to.OPEN) return;
    to.send(data as Buffer, { binary: isBinary }, () => {
      if (paused && to.bufferedAmount < HIGH_WATER_BYTES / 2) {
        paused = false;
        from.resume();
      }
    });
    if (!paused && to.bufferedAmount > HIGH_WATER_BYTES) {
      paused = true;
      from.pause();
    }
  });
}

/** Codes a peer may send in a close frame (1005, 1006 and 1015 are only reported locally). */
function closable(code: number): number {
  return code === 1000 || (code >= 1001 && code <= 1014 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999) ? code : 1000;
}
