/** Server-sent events framing (text/event-stream). */
import type { ServerResponse } from "http";

export function startSse(res: ServerResponse): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
    // Proxies such as nginx would otherwise buffer the stream.
    "x-accel-buffering": "no",
  });
  // Tells EventSource clients how soon to reconnect, and flushes the headers.
  res.write("retry: 2000\n\n");
}

/** One event; `data` is one line of JSON, so no line splitting is needed. */
export function sseEvent(id: string, event: string, data: unknown): string {
  return `id: ${id}\nevent: ${event.replace(/[\r\n]/g, "")}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]/g, " ")}\n\n`;
}

/** Writes and waits for the socket to drain when the client reads slowly. */
export function writeSse(res: ServerResponse, chunk: string): Promise<void> {
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
