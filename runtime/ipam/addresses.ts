/**
 * Instance addresses within a host subnet. The network and broadcast addresses are not
 * usable and the first address after the network one is the host bridge's gateway.
 */
import { intToIpv4, ipv4ToInt } from "../protocol/ipv4-address";
import { type Cidr, lastAddress, parseCidr } from "../protocol/cidr";
import { allocated, notAllocated, type IpamResult } from "./result";

/** The host bridge's address in `subnet` (`.1` of a /24). */
export function gatewayOf(subnet: string): string | undefined {
  const c = parseCidr(subnet);
  return c && c.prefix <= 30 ? intToIpv4(c.base + 1) : undefined;
}

/**
 * Hands out addresses one after another (several new instances in one pass), lowest free
 * first. `inUse` may hold addresses of any subnet; only those inside the asked one matter.
 */
export class AddressPool {
  private readonly used = new Set<number>();
  /** Per subnet: no free address below this one (the pool only ever takes addresses). */
  private readonly floor = new Map<string, number>();
  /** Per subnet text: parsed once (a pass takes 20 addresses per host at scale). */
  private readonly cidrs = new Map<string, Cidr | undefined>();

  constructor(inUse: Iterable<string>) {
    for (const ip of inUse) {
      const n = ipv4ToInt(ip);
      if (n !== undefined) this.used.add(n);
    }
  }

  take(subnet: string, hostName: string): IpamResult {
    const c = this.parsed(subnet);
    if (!c || c.prefix > 30) return notAllocated(`host ${hostName}: subnet ${JSON.stringify(subnet)} is not a usable IPv4 CIDR`);
    const first = c.base + 2;
    const last = lastAddress(c) - 1;
    let n = Math.max(first, this.floor.get(subnet) ?? first);
    while (n <= last && this.used.has(n)) n++;
    if (n > last) {
      const usable = last - first + 1;
      return notAllocated(`host ${hostName}: subnet ${subnet} has no free address (all ${usable} in use)`);
    }
    this.used.add(n);
    this.floor.set(subnet, n + 1);
    return allocated(intToIpv4(n));
  }

  private parsed(subnet: string): Cidr | undefined {
    if (!this.cidrs.has(subnet)) this.cidrs.set(subnet, parseCidr(subnet));
    return this.cidrs.get(subnet);
  }
}

/** The lowest free instance address in `subnet`, given the addresses in use. */
export function allocateInstanceIp(subnet: string, inUse: Iterable<string>, hostName: string): IpamResult {
  return new AddressPool(inUse).take(subnet, hostName);
}
