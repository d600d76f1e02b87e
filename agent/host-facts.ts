import type Docker from "dockerode";
import { backoffMs, delay } from "./backoff";
import type { HostFacts } from "./host-labels";
import { errorMessage, Logger } from "./log";

/**
 * Docker and kernel versions for registration and the io.rancher.host.* labels. Waits (with
 * backoff) for dockerd: an agent started at boot may come up before it.
 */
export async function readHostFacts(docker: Docker, hostname: string, log: Logger, signal: AbortSignal): Promise<HostFacts | undefined> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const [version, info] = await Promise.all([docker.version(), docker.info()]);
      return { hostname, dockerVersion: version.Version, kernelVersion: String(info.KernelVersion ?? version.KernelVersion ?? "") };
    } catch (err) {
      const wait = backoffMs(attempt, 500, 10_000);
      log.warn("docker unreachable, retrying", { reason: errorMessage(err), retryInMs: wait });
      await delay(wait, signal);
    }
  }
  return undefined;
}
