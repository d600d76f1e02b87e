import type Docker from "dockerode";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import type { SamplerSources } from "../stats/sampler";

/** The stats sampler's Docker calls: drover's running containers of this host, and their init pid. */
export function dockerStatsSources(docker: Docker, hostId: string): SamplerSources {
  return {
    async list() {
      const found = await docker.listContainers({
        filters: { label: [`${containerLabels.managed}=true`, `${containerLabels.host}=${hostId}`], status: ["running"] },
      });
      return found.map((c) => ({
        id: c.Id, name: (c.Names[0] ?? "").replace(/^\//, ""),
        ...(c.Labels?.[containerLabels.instance] ? { instanceId: c.Labels[containerLabels.instance] } : {}),
      }));
    },
    async pid(id) {
      const info = await docker.getContainer(id).inspect().catch(() => undefined);
      return info?.State?.Pid || undefined;
    },
  };
}
