/**
 * `docker compose logs` style output for several instances at once: every complete line is
 * written with its instance's name padded and `|`; a partial line waits for its end (or for
 * the stream's end), so lines of different containers never mix.
 */
export class LinePrefixer {
  private partial = "";

  constructor(private readonly prefix: string, private readonly write: (text: string) => boolean) {}

  push(data: Buffer): boolean {
    const text = this.partial + data.toString("utf8");
    const end = text.lastIndexOf("\n");
    if (end < 0) {
      this.partial = text;
      return true;
    }
    this.partial = text.slice(end + 1);
    const lines = text.slice(0, end).split("\n");
    return this.write(lines.map((l) => `${this.prefix}${l}\n`).join(""));
  }

  flush(): void {
    if (this.partial) this.write(`${this.prefix}${this.partial}\n`);
    this.partial = "";
  }
}
