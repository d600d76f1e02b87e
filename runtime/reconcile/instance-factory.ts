import type { InstanceRecord, ServiceRecord, StackRecord } from "../protocol/model";
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
      ports: service.spec.ports,
      labels,
      restartPolicy: service.spec.restartPolicy,
    },
    ip,
    state: "requested",
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
