/**
 * The dashboard benchmark's baseline publisher, run as a child process: a plain `ws` server
 * that reads the same hosts' stats streams with XREAD BLOCK and sends every entry to every
 * connected client. No tokens, no history, no per-client checks: the least a stats stream can do.
 * argv: <redis url> <port> <stream key>...; prints "ready" once listening.
 */
import Redis from "ioredis";
import { WebSocketServer } from "ws";

async function main(): Promise<void> {
  const [redisUrl, port, ...streams] = process.argv.slice(2);
  const redis = new Redis(redisUrl);
  const wss = new WebSocketServer({ port: Number(port), host: "127.0.0.1" });
  await new Promise((r) => wss.once("listening", r));
  process.send?.("ready");
  // From now on, per stream ("$" would re-anchor every call and lose what came between calls).
  const after = streams.map(() => `${Date.now()}-0`);
  for (;;) {
    const reply = (await redis.xread("COUNT", 100, "BLOCK", 3000, "STREAMS", ...streams, ...after)) as Array<[string, Array<[string, string[]]>]> | null;
    for (const [stream, entries] of reply ?? []) {
      const i = streams.indexOf(stream);
      for (const [id, fields] of entries) {
        after[i] = id;
        const text = JSON.stringify({ type: "sample", hostId: stream, id, sample: JSON.parse(fields[1]) });
        for (const ws of wss.clients) ws.send(text);
      }
    }
  }
}

void main();
