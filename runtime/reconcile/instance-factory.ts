import { containerOptionsOf } from "../protocol/container-options";
import type { InstanceRecord, InstanceSpec, LoadBalancerRecord, PortSpec, ServiceRecord, StackRecord } from "../protocol/model";
import { hostPortsOf, newInstanceLabels, type InstanceSnapshot } from "../scheduler";

/** Container name of an instance, Rancher's `<stack>-<service>-<index>`. */
export function instanceName(stackName: string, serviceName: string, index: number): string {
  return `${stackName}-${serviceName}-${index}`;
}

/** A new instance record for `service`, placed on `hostId` with overlay address `ip`. */
export function newInstance(id: string, service: ServiceRecord, stack: StackRecord, hostId: string, index: number, now: number, ip: string): InstanceRecord {
  const name = instanceName(stack.name, service.name, index);
  const labels = {
    ...newInstanceLabels({ id: service.id, name: service.name, stackName: stack.name, labels: service.spec.labels }),
    "io.rancher.container.name": name,
  };
  return {
    id,
    envId: service.envId,
    serviceId: service.id,
    stackId: stack.id,
    hostId,
    name,
    index,
    specVersion: service.specVersion,
    spec: {
      image: service.spec.image,
      ...(service.spec.command ? { command: service.spec.command } : {}),
      ...(service.spec.entrypoint ? { entrypoint: service.spec.entrypoint } : {}),
      env: service.spec.env,
      // Sealed as the service holds them; the store reseals them for the host's desired document.
      ...(service.spec.secrets && Object.keys(service.spec.secrets).length ? { secrets: service.spec.secrets } : {}),
      ports: service.spec.ports,
      labels,
      restartPolicy: service.spec.restartPolicy,
      ...containerOptionsOf(service.spec),
      ...(service.spec.sidekicks?.length ? { sidekicks: service.spec.sidekicks } : {}),
    },
    ip,
    state: "requested",
    ...(service.spec.healthCheck ? { healthState: "initializing" as const, healthChangedAt: new Date(now).toISOString() } : {}),
    createdAt: new Date(now).toISOString(),
    rev: 0,
  };
}

/** How the scheduler sees an instance already placed. */
export function toInstanceSnapshot(i: InstanceRecord): InstanceSnapshot {
  return {
    id: i.id,
    serviceId: i.serviceId,
    name: i.name,
    labels: i.spec.labels,
    ports: hostPortsOf(i.spec.ports),
  };
}

/** The host ports a load balancer's HAProxy binds: each rule's source port, TCP, every address. */
export function loadBalancerPorts(lb: LoadBalancerRecord): PortSpec[] {
  const ports = [...new Set(lb.spec.portRules.map((r) => r.sourcePort))].sort((a, b) => a - b);
  return ports.map((p) => ({ hostPort: p, containerPort: p, protocol: "tcp" as const }));
}

/** The instance spec of a load balancer's HAProxy: its labels (for affinity rules) and ports (for conflicts). */
export function loadBalancerInstanceSpec(lb: LoadBalancerRecord, stack: StackRecord, name: string): InstanceSpec {
  return {
    image: "haproxy",
    env: {},
    ports: loadBalancerPorts(lb),
    labels: {
      ...newInstanceLabels({ id: lb.id, name: lb.name, stackName: stack.name, labels: lb.spec.labels }),
      "io.rancher.container.name": name,
    },
    restartPolicy: { name: "always" },
  };
}

/** A new HAProxy instance of load balancer `lb` on `hostId` (no overlay address: it runs on the host). */
export function newLoadBalancerInstance(id: string, lb: LoadBalancerRecord, stack: StackRecord, hostId: string, index: number, now: number): InstanceRecord {
  const name = instanceName(stack.name, lb.name, index);
  return {
    id,
    envId: lb.envId,
    kind: "lb",
    serviceId: lb.id,
    stackId: stack.id,
    hostId,
    name,
    index,
    specVersion: 1,
    spec: loadBalancerInstanceSpec(lb, stack, name),
    state: "requested",
    createdAt: new Date(now).toISOString(),
    rev: 0,
  };
}
