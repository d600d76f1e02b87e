/** Host subnets: the lowest free block of the host prefix within the environment's network. */
import type { NetworkSpec } from "../protocol/model";
import { blockSize, formatCidr, lastAddress, parseCidr, type Cidr } from "../protocol/cidr";
import { validateNetworkSpec } from "./network-spec";
import { allocated, notAllocated, type IpamResult } from "./result";

interface Range {
  first: number;
  last: number;
}

/**
 * Hands out host subnets one after another (several new hosts in one pass), never one that
 * overlaps a subnet in use. In-use entries that do not parse are ignored: they block nothing.
 */
export class SubnetPool {
  private readonly net?: Cidr;
  private readonly invalid?: string;
  /** In-use blocks, sorted by first address. */
  private readonly used: Range[];

  constructor(private readonly network: NetworkSpec, inUse: Iterable<string>) {
    const problem = validateNetworkSpec(network)[0];
    if (problem) this.invalid = `${problem.field}: ${problem.message}`;
    else this.net = parseCidr(network.cidr);
    this.used = [...inUse].flatMap((text) => {
      const c = parseCidr(text);
      return c ? [{ first: c.base, last: lastAddress(c) }] : [];
    }).sort((a, b) => a.first - b.first);
  }

  take(hostName: string): IpamResult {
    if (!this.net) return notAllocated(`host ${hostName}: no subnet, the environment network is invalid (${this.invalid})`);
    const size = blockSize(this.network.hostSubnetPrefix);
    const end = lastAddress(this.net);
    // Sweep the sorted blocks, moving the candidate past each one it overlaps.
    let candidate = this.net.base;
    for (const r of this.used) {
      if (r.last < candidate) continue;
      if (r.first > candidate + size - 1) break;
      candidate = Math.ceil((r.last + 1) / size) * size;
    }
    if (candidate + size - 1 > end) {
      const inNet = this.used.filter((r) => r.last >= this.net!.base && r.first <= end).length;
      const capacity = 2 ** (this.network.hostSubnetPrefix - this.net.prefix);
      return notAllocated(
        `host ${hostName}: no free /${this.network.hostSubnetPrefix} subnet left in ${this.network.cidr} (${inNet} of ${capacity} in use)`,
      );
    }
    const subnet = { base: candidate, prefix: this.network.hostSubnetPrefix };
    this.insert({ first: candidate, last: candidate + size - 1 });
    return allocated(formatCidr(subnet));
  }

  private insert(r: Range): void {
    const at = this.used.findIndex((u) => u.first > r.first);
    this.used.splice(at === -1 ? this.used.length : at, 0, r);
  }
}

/** The lowest free host subnet of `network`, given the subnets other hosts hold. */
export function allocateHostSubnet(network: NetworkSpec, inUse: Iterable<string>, hostName: string): IpamResult {
  return new SubnetPool(network, inUse).take(hostName);
}
