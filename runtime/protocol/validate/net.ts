/** IP address checks for request fields (CIDRs and the environment network live in runtime/ipam). */
import { isIP } from "net";

export function isIpAddress(text: string): boolean {
  return isIP(text) !== 0;
}
