/** POST /v1/environments bodies. */
import type { NetworkSpec } from "../../protocol/model";
import { DEFAULT_NETWORK, validateNetworkSpec, withNetworkDefaults } from "../../ipam";
import { Problems } from "./problems";
import { ObjectReader } from "./reader";
import { DESCRIPTION, NAME } from "./rules";

export interface EnvironmentCreate {
  name: string;
  description?: string;
  network: NetworkSpec;
}

export function validateEnvironmentCreate(body: unknown): EnvironmentCreate {
  const p = new Problems();
  const r = new ObjectReader(p, body, "", ["name", "description", "network"]);
  const name = r.string("name", { ...NAME, required: true });
  const description = r.string("description", DESCRIPTION);
  const network = r.has("network") ? validateNetwork(p, r.raw("network")) : DEFAULT_NETWORK;
  p.throwIfAny();
  return { name: name!, ...(description !== undefined ? { description } : {}), network: network! };
}

/** Shape here (an object, no unknown fields); values by IPAM's check, the one the planner trusts. */
function validateNetwork(p: Problems, value: unknown): NetworkSpec | undefined {
  const r = new ObjectReader(p, value, "network", ["cidr", "hostSubnetPrefix"]);
  if (!r.valid) return undefined;
  const spec = { cidr: r.raw("cidr"), hostSubnetPrefix: r.raw("hostSubnetPrefix") };
  const errors = validateNetworkSpec(spec);
  for (const e of errors) p.invalid(e.field, e.expected, e.got);
  if (errors.length > 0) return undefined;
  return withNetworkDefaults(spec as { cidr?: string; hostSubnetPrefix?: number });
}
