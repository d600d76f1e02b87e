/** IPv4 CIDR blocks: parsing and the address range they cover. */
import { intToIpv4, ipv4ToInt } from "./ipv4-address";

export interface Cidr {
  /** The network address. */
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
  if (base % blockSize(prefix) !== 0) return undefined;
  return { base, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${intToIpv4(c.base)}/${c.prefix}`;
}

/** Addresses in a block of this prefix length. */
export function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

/** The last address of the block (its broadcast address). */
export function lastAddress(c: Cidr): number {
  return c.base + blockSize(c.prefix) - 1;
}
