/**
 * The Docker calls of logs and exec streams (agent/streams/ holds none): finding an
 * instance's container, starting an exec attached to its output, resizing it, reading its
 * exit code, and opening a container's log stream.
 */
import type Docker from "dockerode";
import type { Duplex } from "stream";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import { DroverError } from "../../runtime/protocol/errors";
import { waitFor } from "../../runtime/protocol/poll";
import type { ExecParams, LogsParams } from "../../runtime/protocol/stream-protocol";

/** An instance's container on this host (running or not). */
export type StreamContainer = Docker.Container;

/** The container of an instance on this host (running or not), by drover's labels. */
export async function findInstanceContainer(docker: Docker, envId: string, instanceId: string): Promise<StreamContainer> {
  const list = await docker.listContainers({
    all: true, filters: { label: [`${containerLabels.instance}=${instanceId}`, `${containerLabels.env}=${envId}`] },
  });
  if (list.length === 0) throw new DroverError("NotFound", `instance ${instanceId} has no container on this host (not started yet, or removed)`);
  return docker.getContainer(list[0].Id);
}

export interface StartedExec {
  /** stdin in; output out (Docker's multiplexed format unless TTY). */
  stream: Duplex;
  resize(cols: number, rows: number): void;
  /** The exit code, once Docker has recorded it (a moment after the output ends). */
  exitCode(): Promise<number>;
}

export async function startExec(container: StreamContainer, params: ExecParams): Promise<StartedExec> {
  const exec = await container.exec({
    Cmd: params.command, AttachStdin: params.stdin, AttachStdout: true, AttachStderr: true, Tty: params.tty,
  });
  const stream = (await exec.start({ hijack: true, stdin: params.stdin, Tty: params.tty } as Docker.ExecStartOptions)) as unknown as Duplex;
  return {
    stream,
    resize(cols, rows) {
      if (params.tty) exec.resize({ w: cols, h: rows }).catch(() => { /* the process may be gone already */ });
    },
    async exitCode() {
      const done = await waitFor(async () => {
        const info = await exec.inspect();
        return info.Running ? undefined : { code: info.ExitCode ?? 0 };
      }, { what: "the exec's exit code", timeoutMs: 10_000, intervalMs: 2, maxIntervalMs: 50 });
      return done.code;
    },
  };
}

export interface OpenedLogs {
  /** Whether the container has a TTY (then its output is not multiplexed). */
  tty: boolean;
  /** The logs so far (not following), or the live stream (following). */
  output: Buffer | (NodeJS.ReadableStream & { destroy(): void });
}

export async function openLogs(container: StreamContainer, params: LogsParams): Promise<OpenedLogs> {
  const info = await container.inspect();
  const options = {
    stdout: params.stdout, stderr: params.stderr, timestamps: params.timestamps,
    ...(params.tail !== undefined ? { tail: params.tail } : {}),
    ...(params.since !== undefined ? { since: params.since } : {}),
  };
  // dockerode answers a stream only when following; otherwise one buffer of the same format.
  const raw: unknown = params.follow ? await container.logs({ ...options, follow: true }) : await container.logs({ ...options, follow: false });
  return { tty: Boolean(info.Config.Tty), output: raw as OpenedLogs["output"] };
}
