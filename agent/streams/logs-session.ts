/** A container's logs down a stream: Docker's log stream demultiplexed into stdout/stderr frames. */
import { Readable } from "stream";
import type WebSocket from "ws";
import type { LogsParams } from "../../runtime/protocol/stream-protocol";
import { openLogs, type StreamContainer } from "../docker/stream-docker";
import { DockerDemuxer } from "./docker-demux";
import { pumpDockerOutput, WsSink } from "./ws-sink";

export async function runLogs(container: StreamContainer, params: LogsParams, ws: WebSocket): Promise<void> {
  const { tty, output } = await openLogs(container, params);
  const demux = tty ? undefined : new DockerDemuxer();
  if (Buffer.isBuffer(output)) {
    const sink = new WsSink(ws, Readable.from([]));
    if (demux) for (const part of demux.push(output)) sink.send(part.channel, part.data);
    else sink.stdout(output);
    sink.control({ type: "exit", code: 0 });
    return;
  }
  const sink = new WsSink(ws, output);
  ws.once("close", () => output.destroy());
  await pumpDockerOutput(output, sink, demux);
  sink.control({ type: "exit", code: 0 });
}
