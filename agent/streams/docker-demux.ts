/**
 * Docker's multiplexed stream format (non-TTY logs and exec): frames of an 8-byte header
 * (stream type, 3 zero bytes, big-endian length) and the payload. `push` takes chunks as
 * they come and returns the complete payloads, consecutive ones of the same stream merged
 * (fewer, bigger websocket frames); a frame cut across chunks waits for the rest.
 */
export interface DemuxedPart {
  /** 1 stdout, 2 stderr (stdin, 0, is never sent back). */
  channel: number;
  data: Buffer;
}

export class DockerDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): DemuxedPart[] {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    // Runs of one channel are gathered as slices and joined once (one copy per run).
    const runs: Array<{ channel: number; slices: Buffer[] }> = [];
    let offset = 0;
    while (buf.length - offset >= 8) {
      const channel = buf[offset] === 2 ? 2 : 1;
      const size = buf.readUInt32BE(offset + 4);
      if (buf.length - offset - 8 < size) break;
      const data = buf.subarray(offset + 8, offset + 8 + size);
      const last = runs[runs.length - 1];
      if (last && last.channel === channel) last.slices.push(data);
      else runs.push({ channel, slices: [data] });
      offset += 8 + size;
    }
    const parts: DemuxedPart[] = runs.map((r) => ({ channel: r.channel, data: r.slices.length === 1 ? Buffer.from(r.slices[0]) : Buffer.concat(r.slices) }));
    buf = buf.subarray(offset);
    // Copy the tail: keeping a slice would pin the whole chunk in memory.
    this.pending = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
    return parts;
  }
}
