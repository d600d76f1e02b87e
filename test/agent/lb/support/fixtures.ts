/** Desired load balancers and directories for the lb tests. */
import type { DnsDirectory, DnsInstance } from "../../../../runtime/protocol/dns";
import type { CertificateMaterial, DesiredLoadBalancer, LoadBalancerSpec, PortRuleSpec } from "../../../../runtime/protocol/model";

export function desiredLb(id: string, rules: PortRuleSpec[], more: Partial<LoadBalancerSpec> = {}, certificates: Record<string, CertificateMaterial> = {}): DesiredLoadBalancer {
  return {
    id, loadBalancerId: `lb-${id}`, name: `stk-${id}-1`, stackId: "stk",
    spec: { portRules: rules, certificateIds: [], scale: 1, global: false, labels: {}, ...more },
    certificates,
  };
}

export function rule(sourcePort: number, targetServiceId: string, targetPort: number, more: Partial<PortRuleSpec> = {}): PortRuleSpec {
  return { sourcePort, protocol: "http", targetServiceId, targetPort, ...more };
}

export function directory(instances: DnsInstance[]): DnsDirectory {
  const serviceIds = [...new Set(instances.map((i) => i.serviceId))];
  return { instances, services: serviceIds.map((id) => ({ id, name: id, stackId: "stk", links: {} })), stacks: [{ id: "stk", name: "stk", stackWideDiscovery: false }] };
}

export function inst(id: string, serviceId: string, ip: string, more: Partial<DnsInstance> = {}): DnsInstance {
  return { id, serviceId, ip, running: true, ...more };
}
