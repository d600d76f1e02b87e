/**
 * A text/event-stream body cut into its blocks (the text between blank lines), for the
 * clients that read the API's event stream: the CLI's `drover events`, benchmarks and tests.
 */
import type { Readable } from "stream";

export function onSseBlocks(body: Readable, take: (block: string) => void): void {
  let buffer = "";
  body.setEncoding("utf8");
  body.on("data", (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      take(block);
    }
  });
}
