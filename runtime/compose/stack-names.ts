/**
 * Between the stored records (references by id) and the compose model (references by name:
 * `svc` in the same stack, `stack/svc` in another, certificates by name). Pure.
 */
import type { CertificateRecord, LoadBalancerRecord, ServiceRecord, StackRecord } from "../protocol/model";
import type { ComposeStack } from "./types";

const live = (s: { state: string }) => s.state !== "removing" && s.state !== "removed";

export interface NameScope {
  stacks: StackRecord[];
  services: ServiceRecord[];
  certificates?: CertificateRecord[];
}

/** The stack's live services and load balancers, references written as names (for export). */
export function stackByName(stack: StackRecord, scope: NameScope & { loadBalancers?: LoadBalancerRecord[] }): Pick<ComposeStack, "services" | "loadBalancers"> {
  const serviceName = (id: string) => {
    const s = scope.services.find((x) => x.id === id);
    if (!s) return id;
    if (s.stackId === stack.id) return s.name;
    return `${scope.stacks.find((x) => x.id === s.stackId)?.name ?? s.stackId}/${s.name}`;
  };
  const certName = (id: string) => scope.certificates?.find((c) => c.id === id)?.name ?? id;
  const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);
  return {
    services: scope.services.filter((s) => s.stackId === stack.id && live(s)).sort(byName).map((s) => ({
      name: s.name,
      spec: { ...s.spec, links: Object.fromEntries(Object.entries(s.spec.links).map(([alias, id]) => [alias, serviceName(id)])) },
    })),
    loadBalancers: (scope.loadBalancers ?? []).filter((lb) => lb.stackId === stack.id && live(lb)).sort(byName).map((lb) => ({
      name: lb.name,
      spec: {
        ...lb.spec,
        portRules: lb.spec.portRules.map((r) => ({ ...r, targetServiceId: serviceName(r.targetServiceId) })),
        certificateIds: lb.spec.certificateIds.map(certName),
        ...(lb.spec.defaultCertificateId ? { defaultCertificateId: certName(lb.spec.defaultCertificateId) } : {}),
      },
    })),
  };
}

/**
 * A reference by name → the id of a live service: `svc` among `local` (name → id of this
 * stack's services, new ones included), `stack/svc` in another stack. Undefined when missing.
 */
export function serviceIdByName(ref: string, local: Map<string, string>, scope: NameScope): string | undefined {
  const slash = ref.indexOf("/");
  if (slash < 0) return local.get(ref);
  const stack = scope.stacks.find((s) => s.name === ref.slice(0, slash) && s.state === "active");
  return scope.services.find((s) => stack && s.stackId === stack.id && s.name === ref.slice(slash + 1) && live(s))?.id;
}

export function certificateIdByName(name: string, scope: NameScope): string | undefined {
  return scope.certificates?.find((c) => c.name === name && c.state === "active")?.id;
}
