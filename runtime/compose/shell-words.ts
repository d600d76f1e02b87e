/**
 * A compose `command:` or `entrypoint:` given as one string is split the way Compose splits
 * it (shlex: spaces separate, single and double quotes group, backslash escapes), and the
 * exporter quotes words back so the two round-trip.
 */
export function splitShellWords(text: string): string[] | { error: string } {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && i + 1 < text.length && '"\\$`'.includes(text[i + 1])) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= "";
    } else if (c === "\\" && i + 1 < text.length) {
      word = (word ?? "") + text[++i];
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (quote) return { error: `an unclosed ${quote} quote` };
  if (word !== undefined) words.push(word);
  return words;
}
