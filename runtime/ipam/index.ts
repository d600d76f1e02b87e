/** IPAM: the environment network, host subnets and instance addresses. Pure, no I/O. */
export { ipv4ToInt, intToIpv4 } from "../protocol/ipv4-address";
export { parseCidr, formatCidr, blockSize, lastAddress, type Cidr } from "../protocol/cidr";
export {
  DEFAULT_NETWORK, MIN_CIDR_PREFIX, MAX_CIDR_PREFIX, MAX_HOST_PREFIX, validateNetworkSpec, withNetworkDefaults,
  type NetworkFieldError,
} from "./network-spec";
export { SubnetPool, allocateHostSubnet } from "./subnets";
export { AddressPool, allocateInstanceIp, gatewayOf } from "./addresses";
export type { IpamResult } from "./result";
