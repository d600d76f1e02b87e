/**
 * Everything one instance's HAProxy is to run, built from its desired document, the host's
 * network and the directory: routing, certificate files, slot layout and the config text.
 * Pure. `structure` hashes the config with every slot left free: it changes with rules,
 * certificates, timeouts, the gateway or slot counts (a reload), never with membership.
 */
import { createHash } from "crypto";
import { isIPv4 } from "net";
import type { DnsDirectory } from "../../runtime/protocol/dns";
import type { DesiredLoadBalancer, HostNetworkSpec } from "../../runtime/protocol/model";
import { CertificatePlan, planCertificates } from "./certificates";
import { renderConfig, RenderInput } from "./config-render";
import { membersOf } from "./membership";
import type { LbPaths } from "./paths";
import { planRouting, RoutingPlan } from "./routing";
import { FREE_ADDR, PlannedSlot, planSlots, slotCountFor, slotName, SlotState } from "./slots";
import { LbSpecError } from "./spec-error";

export interface BuildInput {
  lb: Pick<DesiredLoadBalancer, "id" | "name" | "spec" | "certificates">;
  network?: Pick<HostNetworkSpec, "gateway">;
  paths: Pick<LbPaths, "pidFile" | "runtimeSocket" | "certs">;
  directory?: DnsDirectory;
  /** Slot counts in use so far: kept (a count only grows, when members outgrow it). */
  slotCounts?: Record<string, number>;
  /** Slots as HAProxy last reported them, so instances keep their slots across a reload. */
  slots?: Record<string, SlotState[]>;
}

export interface BuiltConfig {
  routing: RoutingPlan;
  certificates?: CertificatePlan;
  slotCounts: Record<string, number>;
  /** The membership the config text carries. */
  slots: Record<string, PlannedSlot[]>;
  text: string;
  structure: string;
  /** Backends whose slot count had to grow for this build. */
  grown: string[];
  /** The same config with other slot contents (membership moved on, structure unchanged). */
  withSlots(slots: Record<string, SlotState[]>): string;
}

export function buildConfig(input: BuildInput): BuiltConfig {
  const routing = planRouting(input.lb.spec);
  const certificates = planCertificates(input.lb, input.paths.certs);
  const gateway = input.network?.gateway;
  if (gateway !== undefined && !isIPv4(gateway)) throw new LbSpecError("network.gateway", "an IPv4 address", gateway);

  const slotCounts: Record<string, number> = {};
  const slots: Record<string, PlannedSlot[]> = {};
  const grown: string[] = [];
  for (const be of routing.backends) {
    const members = membersOf(be, input.directory);
    const port = be.targets[0].port;
    let count = input.slotCounts?.[be.name] ?? slotCountFor(members.length);
    let plan = planSlots(be.name, resize(input.slots?.[be.name] ?? [], count, port), members);
    if (plan.unplaced.length > 0) {
      count = Math.max(count * 2, slotCountFor(members.length));
      plan = planSlots(be.name, resize(input.slots?.[be.name] ?? [], count, port), members);
      grown.push(be.name);
    }
    slotCounts[be.name] = count;
    slots[be.name] = plan.slots;
  }

  const base: RenderInput = {
    id: input.lb.id, name: input.lb.name, spec: input.lb.spec, routing,
    pidFile: input.paths.pidFile, runtimeSocket: input.paths.runtimeSocket,
    ...(certificates ? { crtList: certificates.crtList } : {}),
    ...(gateway ? { sourceAddress: gateway } : {}),
    slotCounts,
  };
  const structure = createHash("sha256").update(renderConfig(base)).digest("hex");
  const withSlots = (s: Record<string, SlotState[]>) =>
    renderConfig({ ...base, slots: Object.fromEntries(routing.backends.map((be) => [be.name, resize(s[be.name] ?? [], slotCounts[be.name], be.targets[0].port)])) });
  return { routing, ...(certificates ? { certificates } : {}), slotCounts, slots, text: withSlots(slots), structure, grown, withSlots };
}

/** Exactly `count` slots named s1..sN: the known ones first, free ones after. */
export function resize(current: SlotState[], count: number, port: number): SlotState[] {
  const out: SlotState[] = [];
  for (let i = 0; i < count; i++) {
    const name = slotName(i);
    const known = current.find((s) => s.name === name);
    out.push(known ? { name, addr: known.addr, port: known.port, admin: known.admin } : { name, addr: FREE_ADDR, port, admin: "maint" });
  }
  return out;
}
