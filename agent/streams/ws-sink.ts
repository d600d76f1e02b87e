/**
 * Sending a readable's output down a websocket with back-pressure: the readable pauses
 * while the socket holds more than a high-water mark of unsent data.
 */
import type WebSocket from "ws";
import { CHANNEL, frame, type StreamControl } from "../../runtime/protocol/stream-protocol";
import type { DockerDemuxer } from "./docker-demux";

const HIGH_WATER_BYTES = 2 * 1024 * 1024;
const BATCH_BYTES = 256 * 1024;

export class WsSink {
  private paused = false;

  constructor(private readonly ws: WebSocket, private readonly source: NodeJS.ReadableStream) {}

  /** Output gathered during this turn of the event loop: sent as one frame per channel run. */
  private batch: Array<{ channel: number; slices: Buffer[]; bytes: number }> = [];
  private flushScheduled = false;

  send(channel: number, data: Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN || data.length === 0) return;
    const last = this.batch[this.batch.length - 1];
    if (last && last.channel === channel && last.bytes < BATCH_BYTES) {
      last.slices.push(data);
      last.bytes += data.length;
    } else {
      this.batch.push({ channel, slices: [data], bytes: data.length });
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what was gathered (fewer, bigger frames: every hop handles each frame once). */
  flush(): void {
    this.flushScheduled = false;
    const batch = this.batch;
    this.batch = [];
    for (const b of batch) this.sendFrame(b.channel, b.slices.length === 1 ? b.slices[0] : Buffer.concat(b.slices));
  }

  private sendFrame(channel: number, data: Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(frame(channel, data), { binary: true }, () => {
      if (this.paused && this.ws.bufferedAmount < HIGH_WATER_BYTES / 2) {
        this.paused = false;
        this.source.resume();
      }
    });
    if (!this.paused && this.ws.bufferedAmount > HIGH_WATER_BYTES) {
      this.paused = true;
      this.source.pause();
    }
  }

  stdout(data: Buffer): void {
    this.send(CHANNEL.stdout, data);
  }

  /** Sends a control message and, for `exit` and `error`, closes the socket once it is flushed. */
  control(message: StreamControl): void {
    this.flush();
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(JSON.stringify(message));
    if (message.type === "exit" || message.type === "error") this.ws.close(1000);
  }
}

/**
 * Copies a Docker output stream into the sink (demultiplexed into stdout/stderr when Docker
 * multiplexes it, i.e. without a TTY) and resolves when the stream ends, closes or fails.
 */
export function pumpDockerOutput(stream: NodeJS.ReadableStream, sink: WsSink, demux: DockerDemuxer | undefined): Promise<void> {
  stream.on("data", (chunk: Buffer) => {
    if (demux) for (const part of demux.push(chunk)) sink.send(part.channel, part.data);
    else sink.stdout(chunk);
  });
  return new Promise<void>((resolve) => {
    stream.once("end", resolve);
    stream.once("close", resolve);
    stream.once("error", resolve);
  });
}
