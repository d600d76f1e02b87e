/** IPv4 addresses as unsigned 32-bit integers (plain numbers: bitwise ops would make them signed). */
import { isIPv4 } from "net";

export function ipv4ToInt(addr: string): number | undefined {
  if (!isIPv4(addr)) return undefined;
  return addr.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

export function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}
