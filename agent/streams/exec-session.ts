/**
 * A command run in a container down a stream: stdin frames in, stdout/stderr frames out
 * (merged on stdout with a TTY), window resizes, and the exit code as the last message.
 */
import type WebSocket from "ws";
import { startExec, type StreamContainer } from "../docker/stream-docker";
import { CHANNEL, parseControl, type ExecParams } from "../../runtime/protocol/stream-protocol";
import { DockerDemuxer } from "./docker-demux";
import { pumpDockerOutput, WsSink } from "./ws-sink";

/** `early`: messages that arrived while the exec was being set up (the dialer keeps them). */
export async function runExec(container: StreamContainer, params: ExecParams, ws: WebSocket, early: Array<[Buffer, boolean]> = []): Promise<void> {
  const exec = await startExec(container, params);
  const { stream } = exec;
  const sink = new WsSink(ws, stream);
  const resize = (cols: number, rows: number) => exec.resize(cols, rows);
  if (params.cols && params.rows) resize(params.cols, params.rows);
  const onMessage = (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      if (data[0] === CHANNEL.stdin && params.stdin && !stream.writableEnded) stream.write(data.subarray(1));
      return;
    }
    const control = parseControl(data.toString("utf8"));
    if (control?.type === "resize" && control.cols > 0 && control.rows > 0) resize(control.cols, control.rows);
    else if (control?.type === "stdin-end" && !stream.writableEnded) stream.end();
  };
  // The dialer's buffering listener goes; what it kept is handled first, in order.
  ws.removeAllListeners("message");
  for (const [data, isBinary] of early.splice(0)) onMessage(data, isBinary);
  ws.on("message", onMessage);
  ws.once("close", () => stream.destroy());
  const demux = params.tty ? undefined : new DockerDemuxer();
  await pumpDockerOutput(stream, sink, demux);
  if (ws.readyState !== ws.OPEN) return;
  sink.control({ type: "exit", code: await exec.exitCode() });
}
