/** POST /v1/environments bodies. */
import type { NetworkSpec } from "../../protocol/model";
import { parseCidr } from "./net";
import { Problems } from "./problems";
import { ObjectReader } from "./reader";
import { DESCRIPTION, NAME } from "./rules";

export interface EnvironmentCreate {
  name: string;
  description?: string;
  network: NetworkSpec;
}

export const DEFAULT_NETWORK: NetworkSpec = { cidr: "10.42.0.0/16", hostSubnetPrefix: 24 };
/** Overlay ranges from /8 to /28; host subnets up to /30 (two usable addresses). */
const MIN_CIDR_PREFIX = 8;
const MAX_CIDR_PREFIX = 28;
const MAX_HOST_PREFIX = 30;

export function validateEnvironmentCreate(body: unknown): EnvironmentCreate {
  const p = new Problems();
  const r = new ObjectReader(p, body, "", ["name", "description", "network"]);
  const name = r.string("name", { ...NAME, required: true });
  const description = r.string("description", DESCRIPTION);
  const network = r.has("network") ? validateNetwork(p, r.raw("network")) : DEFAULT_NETWORK;
  p.throwIfAny();
  return { name: name!, ...(description !== undefined ? { description } : {}), network: network! };
}

function validateNetwork(p: Problems, value: unknown): NetworkSpec | undefined {
  const r = new ObjectReader(p, value, "network", ["cidr", "hostSubnetPrefix"]);
  const cidrText = r.string("cidr", { expected: `an IPv4 CIDR with no host bits set, /${MIN_CIDR_PREFIX} to /${MAX_CIDR_PREFIX}, e.g. "10.42.0.0/16"` }) ?? DEFAULT_NETWORK.cidr;
  const cidr = parseCidr(cidrText);
  if (r.has("cidr") && (!cidr || cidr.prefix < MIN_CIDR_PREFIX || cidr.prefix > MAX_CIDR_PREFIX)) {
    if (!p.list.some((x) => x.field === "network.cidr")) {
      p.invalid("network.cidr", `an IPv4 CIDR with no host bits set, /${MIN_CIDR_PREFIX} to /${MAX_CIDR_PREFIX}, e.g. "10.42.0.0/16"`, cidrText);
    }
    return undefined;
  }
  const min = (cidr?.prefix ?? 16) + 1;
  const hostSubnetPrefix = r.has("hostSubnetPrefix")
    ? r.integer("hostSubnetPrefix", min, MAX_HOST_PREFIX)
    : Math.max(DEFAULT_NETWORK.hostSubnetPrefix, min);
  if (!r.valid || hostSubnetPrefix === undefined) return undefined;
  return { cidr: cidrText, hostSubnetPrefix };
}
