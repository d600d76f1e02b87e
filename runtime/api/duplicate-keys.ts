/**
 * JSON.parse keeps the last of two equal keys (`{"scale": 1, "scale": 50}` reads as 50), so a
 * body that gives a field twice would be half-applied without a word. This finds the first
 * repeated key of any object in a text JSON.parse has already accepted, with its path.
 */
export function firstDuplicateKey(text: string): string | undefined {
  // One frame per open container: an object's keys so far and its path, or an array's path and index.
  const stack: Array<{ keys?: Set<string>; path: string; expectKey: boolean; index: number; key?: string }> = [];
  const childPath = () => {
    const top = stack[stack.length - 1];
    if (!top) return "";
    return top.keys ? (top.path ? `${top.path}.${top.key}` : top.key ?? "") : `${top.path}[${top.index}]`;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{" || c === "[") {
      stack.push({ keys: c === "{" ? new Set() : undefined, path: childPath(), expectKey: c === "{", index: 0 });
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === ",") {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
      else if (top) top.index++;
    } else if (c === "\"") {
      let j = i + 1;
      while (text[j] !== "\"") j += text[j] === "\\" ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return top.path ? `${top.path}.${key}` : key;
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = j;
    }
  }
  return undefined;
}
