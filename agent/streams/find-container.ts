import type Docker from "dockerode";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import { DroverError } from "../../runtime/protocol/errors";

/** The container of an instance on this host (running or not), by drover's labels. */
export async function findInstanceContainer(docker: Docker, envId: string, instanceId: string): Promise<Docker.Container> {
  const list = await docker.listContainers({
    all: true, filters: { label: [`${containerLabels.instance}=${instanceId}`, `${containerLabels.env}=${envId}`] },
  });
  if (list.length === 0) throw new DroverError("NotFound", `instance ${instanceId} has no container on this host (not started yet, or removed)`);
  return docker.getContainer(list[0].Id);
}
