import Docker from "dockerode";
import { checkRedis } from "./smoke-redis";

export interface SmokeOptions {
  redisUrl: string;
  /** drover's CA (a client certificate for rediss URLs is issued from it). */
  tlsDir: string;
  dockerSocket: string;
  image: string;
}

export interface SmokeReport {
  ok: boolean;
  lines: string[];
}

/** Pings Redis (one, Sentinel or Cluster: smoke-redis.ts), then creates, starts, waits for and removes one container. */
export async function runSmoke(options: SmokeOptions): Promise<SmokeReport> {
  const lines: string[] = [];
  lines.push(...await checkRedis(options.redisUrl, options.tlsDir));

  const docker = new Docker({ socketPath: options.dockerSocket });
  const version = await docker.version();
  lines.push(`dockerd ${options.dockerSocket}: version ${version.Version}, API ${version.ApiVersion}`);

  const started = Date.now();
  const container = await docker.createContainer({
    Image: options.image,
    Cmd: ["sh", "-c", "echo drover-smoke-ok"],
    Labels: { "io.drover.smoke": "true" },
  });
  try {
    await container.start();
    const exit = (await container.wait()) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true })).toString("utf8");
    const ok = exit.StatusCode === 0 && logs.includes("drover-smoke-ok");
    lines.push(`container ${container.id.slice(0, 12)} (${options.image}): exit ${exit.StatusCode}, ` +
      `output ${ok ? "as expected" : JSON.stringify(logs)}, ${Date.now() - started} ms create→exit`);
    return { ok, lines };
  } finally {
    await container.remove({ force: true });
    lines.push(`container ${container.id.slice(0, 12)} removed`);
  }
}
