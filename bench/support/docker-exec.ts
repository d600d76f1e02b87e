/**
 * `docker exec` through dockerode, straight to a lab host's socket (no CLI process in the
 * host's namespaces): the benchmarks use it to make a container sick at a known moment and
 * to drive client loops, on drover's host and on Swarm's alike.
 */
import type Docker from "dockerode";
import { PassThrough } from "stream";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` in container `containerId` and waits for it; the exit code and both outputs. */
export async function execIn(docker: Docker, containerId: string, cmd: string[]): Promise<ExecResult> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on("data", (b: Buffer) => out.push(b));
  stderr.on("data", (b: Buffer) => err.push(b));
  docker.modem.demuxStream(stream, stdout, stderr);
  await new Promise<void>((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", reject);
  });
  const info = await exec.inspect();
  return { code: info.ExitCode ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

/** Like execIn, but throws (naming the command and the container) unless it exits 0. */
export async function execOk(docker: Docker, containerId: string, cmd: string[]): Promise<string> {
  const r = await execIn(docker, containerId, cmd);
  if (r.code !== 0) throw new Error(`exec ${JSON.stringify(cmd.join(" ").slice(0, 80))} in ${containerId.slice(0, 12)}: exit ${r.code}: ${r.stderr.trim().slice(0, 300)}`);
  return r.stdout;
}

/** Starts `cmd` in the container and returns at once (`docker exec -d`). */
export async function execDetached(docker: Docker, containerId: string, cmd: string[]): Promise<void> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: false, AttachStderr: false });
  await exec.start({ Detach: true });
}
