import Docker from "dockerode";
import type { ContainerInfo } from "dockerode";
import { containerLabels } from "../../../runtime/protocol/agent-protocol";
import type { DesiredInstance, HostDesiredState, InstanceSpec } from "../../../runtime/protocol/model";

export const testImage = "local/busybox";

export function dockerClient(): Docker {
  return new Docker({ socketPath: "/var/run/docker.sock" });
}

/** Containers whose name starts with the test's prefix (drover's or not). */
export async function containersNamed(docker: Docker, prefix: string): Promise<ContainerInfo[]> {
  const all = await docker.listContainers({ all: true, filters: { name: [prefix] } });
  return all.filter((c) => c.Names.some((n) => n.replace(/^\//, "").startsWith(prefix)));
}

/** Containers carrying the host label of the test's host. */
export async function containersOfHost(docker: Docker, hostId: string): Promise<ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${containerLabels.host}=${hostId}`] } });
}

export function nameOf(c: ContainerInfo): string {
  return c.Names[0].replace(/^\//, "");
}

/** Removes what a test made: containers with its name prefix or its host labels. */
export async function removeTestContainers(docker: Docker, prefix: string, hostIds: string[]): Promise<void> {
  const found = new Map<string, ContainerInfo>();
  for (const c of await containersNamed(docker, prefix)) found.set(c.Id, c);
  for (const hostId of hostIds) for (const c of await containersOfHost(docker, hostId)) found.set(c.Id, c);
  for (const c of found.values()) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
}

export function spec(overrides: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    image: testImage,
    command: ["sleep", "3600"],
    env: {},
    ports: [],
    labels: {},
    restartPolicy: { name: "always" },
    ...overrides,
  };
}

export function instance(prefix: string, id: string, name: string, s: InstanceSpec = spec()): DesiredInstance {
  return { id, name: `${prefix}${name}`, serviceId: `svc-${name.replace(/-\d+$/, "")}`, stackId: "stk-1", spec: s };
}

export function desiredDoc(hostId: string, generation: number, instances: DesiredInstance[]): HostDesiredState {
  return { hostId, generation, instances };
}
