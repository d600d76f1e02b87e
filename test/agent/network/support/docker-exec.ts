import type Docker from "dockerode";

/** Runs a command in a container and returns its stdout+stderr (Docker's 8-byte frame headers removed) and exit code. */
export async function execIn(c: Docker.Container, cmd: string[]): Promise<{ out: string; code: number }> {
  const ex = await c.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await ex.start({});
  const chunks: Buffer[] = [];
  stream.on("data", (d: Buffer) => chunks.push(d));
  await new Promise((r) => stream.on("end", r));
  const buf = Buffer.concat(chunks);
  let out = "";
  for (let i = 0; i + 8 <= buf.length; ) {
    const n = buf.readUInt32BE(i + 4);
    out += buf.toString("utf8", i + 8, i + 8 + n);
    i += 8 + n;
  }
  const info = await ex.inspect();
  return { out, code: info.ExitCode ?? -1 };
}
