/** A container's logs down a stream: Docker's log stream demultiplexed into stdout/stderr frames. */
import type Docker from "dockerode";
import type WebSocket from "ws";
import type { LogsParams } from "../../runtime/protocol/stream-protocol";
import { DockerDemuxer } from "./docker-demux";
import { pumpDockerOutput, WsSink } from "./ws-sink";

export async function runLogs(container: Docker.Container, params: LogsParams, ws: WebSocket): Promise<void> {
  const info = await container.inspect();
  const options = {
    stdout: params.stdout, stderr: params.stderr, timestamps: params.timestamps,
    ...(params.tail !== undefined ? { tail: params.tail } : {}),
    ...(params.since !== undefined ? { since: params.since } : {}),
  };
  // dockerode answers a stream only when following; otherwise one buffer of the same format.
  const raw: unknown = params.follow ? await container.logs({ ...options, follow: true }) : await container.logs({ ...options, follow: false });
  const demux = info.Config.Tty ? undefined : new DockerDemuxer();
  if (Buffer.isBuffer(raw)) {
    const { Readable } = await import("stream");
    const sink = new WsSink(ws, Readable.from([]));
    if (demux) for (const part of demux.push(raw)) sink.send(part.channel, part.data);
    else sink.stdout(raw);
    sink.control({ type: "exit", code: 0 });
    return;
  }
  const stream = raw as NodeJS.ReadableStream & { destroy(): void };
  const sink = new WsSink(ws, stream);
  ws.once("close", () => stream.destroy());
  await pumpDockerOutput(stream, sink, demux);
  sink.control({ type: "exit", code: 0 });
}
