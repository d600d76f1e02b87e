/** IPv4 address and CIDR checks for network settings. */
import { isIP } from "net";

export function ipv4ToInt(addr: string): number | undefined {
  if (isIP(addr) !== 4) return undefined;
  return addr.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

export interface Cidr {
  base: number;
  prefix: number;
}

/** `a.b.c.d/n` with no host bits set; undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const base = ipv4ToInt(match[1]);
  const prefix = Number(match[2]);
  if (base === undefined || prefix > 32) return undefined;
  const hostBits = 2 ** (32 - prefix);
  if (base % hostBits !== 0) return undefined;
  return { base, prefix };
}

export function isIpAddress(text: string): boolean {
  return isIP(text) !== 0;
}
