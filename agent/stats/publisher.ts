/**
 * Samples every statsIntervalMs and appends the sample to the host's stats stream, capped to
 * statsHistoryLength entries: that stream is the short history a dashboard fills its gaps
 * from after a drop. A sample still running when the next is due is not overlapped; samples
 * are skipped while Redis is away (a plot shows the gap rather than made-up points).
 */
import type Docker from "dockerode";
import * as fs from "fs/promises";
import type Redis from "ioredis";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import { statsHistoryLength, statsIntervalMs } from "../../runtime/protocol/stats";
import { errorMessage, Logger } from "../log";
import { SamplerSources, StatsSampler } from "./sampler";

export class StatsPublisher {
  private timer?: NodeJS.Timeout;
  private running = false;
  private failures = 0;
  /** The first sample has no earlier reading to take rates from: it only primes the sampler. */
  private primed = false;
  private missingSaid = false;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly sampler: StatsSampler,
    private readonly log: Logger,
    private readonly intervalMs = statsIntervalMs,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    void this.tick();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const sample = await this.sampler.sample();
      if (!this.primed) {
        this.primed = true;
        return;
      }
      if (this.redis.status === "ready") {
        // NOMKSTREAM: the server makes the stream when the host registers and deletes it when
        // the host or its environment is purged; an agent still running then (or restarted
        // before its Redis user is gone) must not bring back a key of a deleted host.
        const id = await this.redis.xadd(this.key, "NOMKSTREAM", "MAXLEN", "~", String(statsHistoryLength), "*", "s", JSON.stringify(sample));
        if (id === null && !this.missingSaid) {
          this.missingSaid = true;
          this.log.warn("no stats stream for this host (made at registration, removed with the host): samples are not kept");
        }
      }
      this.failures = 0;
    } catch (err) {
      // One line per run of failures, not one every two seconds.
      if (this.failures++ === 0) this.log.warn("stats sample not published", { reason: errorMessage(err) });
    } finally {
      this.running = false;
    }
  }
}

/** Sampler sources backed by the local dockerd: drover's running containers of this host. */
export function dockerSources(docker: Docker, hostId: string): SamplerSources {
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
