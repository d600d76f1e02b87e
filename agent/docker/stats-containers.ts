import type Docker from "dockerode";
import * as fs from "fs/promises";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import type { SamplerSources } from "../stats/sampler";

/** The stats sampler's Docker calls: drover's running containers of this host, their init pid, and Docker's disk. */
export function dockerStatsSources(docker: Docker, hostId: string): SamplerSources {
  let root: string | undefined;
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
    async dockerDisk() {
      // Docker's data root as dockerd names it (asked once), statfs'd at every sample: cheap.
      root ??= ((await docker.info()) as { DockerRootDir?: string }).DockerRootDir;
      if (!root) return undefined;
      const st = await fs.statfs(root);
      return { freeBytes: st.bavail * st.bsize, totalBytes: st.blocks * st.bsize };
    },
  };
}
