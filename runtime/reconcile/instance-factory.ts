import { containerOptionsOf } from "../protocol/container-options";
import type { InstanceRecord, InstanceSpec, LoadBalancerRecord, PortSpec, ServiceRecord, StackRecord } from "../protocol/model";
import { hostPortsOf, newInstanceLabels, type InstanceSnapshot } from "../scheduler";
import { knowJsonText } from "./json-text";

/** Container name of an instance, Rancher's `<stack>-<service>-<index>`. */
export function instanceName(stackName: string, serviceName: string, index: number): string {
  return `${stackName}-${serviceName}-${index}`;
}

/** A new instance record for `service`, placed on `hostId` with overlay address `ip`. */
export function newInstance(id: string, service: ServiceRecord, stack: StackRecord, hostId: string, index: number, now: number, ip: string): InstanceRecord {
  return instanceFactory(service, stack, now)(id, hostId, index, ip);
}

/** Makes the new instances of one service in one pass (instanceFactory). */
export type MakeInstance = (id: string, hostId: string, index: number, ip: string) => InstanceRecord;

const CONTAINER_NAME_LABEL = "io.rancher.container.name";

/**
 * newInstance for many instances of one service at `now`: what all of them share (the
 * service's labels, the spec's other fields, the creation time, the spec's JSON text but for
 * the container name) is made once, each instance only adds its own. A pass that places
 * 25,000 instances spent a fifth of its planning here and in stringifying each spec; each
 * spec's text is now known as it is made (json-text.ts), for the desired documents' digest.
 */
export function instanceFactory(service: ServiceRecord, stack: StackRecord, now: number): MakeInstance {
  const s = service.spec;
  const baseLabels = newInstanceLabels({ id: service.id, name: service.name, stackName: stack.name, labels: s.labels });
  // Key order as ever (the same JSON text as before): a spec field that is absent is not a key.
  const specTemplate: InstanceSpec = {
    image: s.image,
    ...(s.command ? { command: s.command } : {}),
    ...(s.entrypoint ? { entrypoint: s.entrypoint } : {}),
    env: s.env,
    // Sealed as the service holds them; the store reseals them for the host's desired document.
    ...(s.secrets && Object.keys(s.secrets).length ? { secrets: s.secrets } : {}),
    ports: s.ports,
    labels: baseLabels,
    restartPolicy: s.restartPolicy,
    ...containerOptionsOf(s),
    ...(s.sidekicks?.length ? { sidekicks: s.sidekicks } : {}),
  };
  const labelsOf = (name: string) => {
    const labels = { ...baseLabels };
    labels[CONTAINER_NAME_LABEL] = name;
    return labels;
  };
  const text = specTextTemplate(specTemplate, labelsOf);
  const createdAt = new Date(now).toISOString();
  const recordTemplate: InstanceRecord = {
    id: "",
    envId: service.envId,
    serviceId: service.id,
    stackId: stack.id,
    hostId: "",
    name: "",
    index: 0,
    specVersion: service.specVersion,
    spec: specTemplate,
    ip: "",
    state: "requested",
    ...(s.healthCheck ? { healthState: "initializing" as const, healthChangedAt: createdAt } : {}),
    createdAt,
    rev: 0,
  };
  return (id, hostId, index, ip) => {
    const name = instanceName(stack.name, service.name, index);
    const spec = { ...specTemplate, labels: labelsOf(name) };
    if (text) knowJsonText(spec, text.before + JSON.stringify(name) + text.after);
    return { ...recordTemplate, id, hostId, name, index, spec, ip };
  };
}

/**
 * The JSON text of the instance specs `template` makes, split around the container name's
 * value, or undefined when the split is not certain (the marker also found elsewhere: then
 * each text is made in full when needed).
 */
function specTextTemplate(template: InstanceSpec, labelsOf: (name: string) => Record<string, string>): { before: string; after: string } | undefined {
  const marker = "\u0000drover-container-name\u0000";
  const parts = JSON.stringify({ ...template, labels: labelsOf(marker) }).split(JSON.stringify(marker));
  return parts.length === 2 ? { before: parts[0], after: parts[1] } : undefined;
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
