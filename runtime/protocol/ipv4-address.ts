/** IPv4 addresses as unsigned 32-bit integers (plain numbers: bitwise ops would make them signed). */
import { isIPv4 } from "net";

// Both run for every instance address a pass hands out or counts (25,000 at scale): digits are
// read in place and the text is made by one template, not through split/reduce and join.
export function ipv4ToInt(addr: string): number | undefined {
  if (!isIPv4(addr)) return undefined;
  let n = 0;
  let octet = 0;
  for (let k = 0; k < addr.length; k++) {
    const c = addr.charCodeAt(k);
    if (c === 46) { n = n * 256 + octet; octet = 0; } else octet = octet * 10 + (c - 48); // "." or a digit (isIPv4 checked)
  }
  return n * 256 + octet;
}

export function intToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
