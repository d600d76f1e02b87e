import type Docker from "dockerode";
import type { ContainerInspectInfo } from "dockerode";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import type { DesiredInstance } from "../../runtime/protocol/model";
import type { Logger } from "../log";
import { isOwnContainer, ManagedContainer } from "../plan";
import { createOptions, HostContext } from "./container-config";

/**
 * The Docker operations reconcile needs, on this host's drover containers only. Every
 * lookup selects by the managed and host labels: a container drover did not create is never
 * listed, so it can never be stopped or removed.
 */
export class DockerContainers {
  constructor(private readonly docker: Docker, private readonly ctx: HostContext, private readonly log: Logger) {}

  /** This host's drover containers, running or not. */
  async list(): Promise<ManagedContainer[]> {
    const found = await this.docker.listContainers({
      all: true,
      filters: { label: [`${containerLabels.managed}=true`, `${containerLabels.host}=${this.ctx.hostId}`] },
    });
    return found
      .filter((c) => isOwnContainer(c.Labels, this.ctx.hostId))
      .map((c) => ({ id: c.Id, name: (c.Names[0] ?? "").replace(/^\//, ""), state: c.State, labels: c.Labels ?? {} }));
  }

  async inspect(id: string): Promise<ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(id).inspect();
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /**
   * Creates and starts an instance's container. If the name is taken by this very instance's
   * container (made by an earlier run whose list we did not see), that one is adopted instead:
   * a second container is never made. A name held by anything else is an error, left alone.
   */
  async createAndStart(instance: DesiredInstance): Promise<{ containerId: string; adopted: boolean }> {
    const options = createOptions(instance, this.ctx);
    let containerId: string;
    try {
      containerId = (await this.createPulling(options)).id;
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
      const existing = await this.inspect(instance.name);
      const labels = existing?.Config?.Labels ?? {};
      if (existing && isOwnContainer(labels, this.ctx.hostId) && labels[containerLabels.instance] === instance.id) {
        this.log.info("adopted existing container", { instance: instance.id, name: instance.name, containerId: existing.Id });
        return { containerId: existing.Id, adopted: true };
      }
      throw new Error(`container name ${instance.name} is taken by a container drover did not create for this instance; leaving it alone`);
    }
    this.log.info("created container", { instance: instance.id, name: instance.name, containerId, image: instance.spec.image });
    await this.start(containerId, instance);
    return { containerId, adopted: false };
  }

  async start(id: string, instance: DesiredInstance): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      if (statusOf(err) !== 304) throw err; // 304: already running
    }
    this.log.info("started container", { instance: instance.id, name: instance.name, containerId: id });
  }

  /** Force-removes a container (and its anonymous volumes); already gone is fine. */
  async remove(id: string, fields: Record<string, unknown>): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      const status = statusOf(err);
      // 404: already gone; 409: Docker is already removing it.
      if (status !== 404 && status !== 409) throw err;
    }
    this.log.info("removed container", { containerId: id, ...fields });
  }

  private async createPulling(options: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    try {
      return await this.docker.createContainer(options);
    } catch (err) {
      if (statusOf(err) !== 404 || !options.Image) throw err;
      this.log.info("pulling image", { image: options.Image });
      await this.pull(options.Image);
      return await this.docker.createContainer(options);
    }
  }

  private async pull(image: string): Promise<void> {
    const stream = await this.docker.pull(image);
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
    });
  }
}

export function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number })?.statusCode;
}
