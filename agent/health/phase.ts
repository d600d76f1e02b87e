/**
 * Where in its interval a target is checked: a fixed offset from a hash of its instance id,
 * so a thousand targets handed over at once are spread evenly over the interval instead of
 * firing together, and a target keeps its slot from one document to the next.
 */

/** FNV-1a, 32 bits: cheap, and spreads similar ids ("i-1", "i-2") well enough for this. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The offset in [0, interval) at which `instanceId` is first checked after it is added. */
export function phaseOffset(instanceId: string, interval: number): number {
  return fnv1a(instanceId) % interval;
}
