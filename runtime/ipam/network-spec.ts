/**
 * An environment's `network` setting: its checks (shared by the API and the planner) and
 * the defaults for what a client left out.
 */
import type { NetworkSpec } from "../protocol/model";
import { parseCidr } from "../protocol/cidr";

export const DEFAULT_NETWORK: NetworkSpec = { cidr: "10.42.0.0/16", hostSubnetPrefix: 24 };
/** Overlay ranges from /8 to /28. */
export const MIN_CIDR_PREFIX = 8;
export const MAX_CIDR_PREFIX = 28;
/** A /30 host subnet leaves one container address (network, gateway and broadcast are taken). */
export const MAX_HOST_PREFIX = 30;

export interface NetworkFieldError {
  field: "network.cidr" | "network.hostSubnetPrefix";
  /** What a valid value looks like, for messages. */
  expected: string;
  got: unknown;
  /** `expected ..., got ...` (without the field name). */
  message: string;
}

const CIDR_EXPECTED = `an IPv4 CIDR with no host bits set, /${MIN_CIDR_PREFIX} to /${MAX_CIDR_PREFIX}, e.g. "10.42.0.0/16"`;

/** Every problem with a (possibly partial) network spec; absent fields take their defaults. */
export function validateNetworkSpec(spec: { cidr?: unknown; hostSubnetPrefix?: unknown }): NetworkFieldError[] {
  const errors: NetworkFieldError[] = [];
  const fail = (field: NetworkFieldError["field"], expected: string, got: unknown) =>
    errors.push({ field, expected, got, message: `expected ${expected}, got ${shortly(got)}` });

  const cidr = spec.cidr === undefined ? parseCidr(DEFAULT_NETWORK.cidr) : typeof spec.cidr === "string" ? parseCidr(spec.cidr) : undefined;
  const cidrOk = !!cidr && cidr.prefix >= MIN_CIDR_PREFIX && cidr.prefix <= MAX_CIDR_PREFIX;
  if (!cidrOk) fail("network.cidr", CIDR_EXPECTED, spec.cidr);

  if (spec.hostSubnetPrefix !== undefined) {
    // Longer than the network's prefix, so an environment has at least two host subnets.
    const min = (cidrOk ? cidr!.prefix : MIN_CIDR_PREFIX) + 1;
    const p = spec.hostSubnetPrefix;
    if (typeof p !== "number" || !Number.isInteger(p) || p < min || p > MAX_HOST_PREFIX) {
      fail("network.hostSubnetPrefix", `an integer from ${min} to ${MAX_HOST_PREFIX}`, p);
    }
  }
  return errors;
}

/** A valid partial spec with the defaults filled in (a /24 per host, or the next size down for a small network). */
export function withNetworkDefaults(spec: { cidr?: string; hostSubnetPrefix?: number }): NetworkSpec {
  const cidr = spec.cidr ?? DEFAULT_NETWORK.cidr;
  const prefix = parseCidr(cidr)?.prefix ?? 16;
  return { cidr, hostSubnetPrefix: spec.hostSubnetPrefix ?? Math.max(DEFAULT_NETWORK.hostSubnetPrefix, prefix + 1) };
}

/** A bad value for a message, never the whole of a large one. */
function shortly(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
