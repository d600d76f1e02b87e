/**
 * JSON texts of objects that are never changed in place (instance specs: records are copied,
 * not edited, see snapshot-cache.ts), made once per object. Every pass digests every
 * host's desired document from its instances' spec texts (desired-docs.ts); the
 * instance factory hands the text of each spec it makes over here as it makes it, so a pass
 * that places 25,000 instances does not stringify their specs for the digest. (Splicing these
 * texts into the records' and documents' own JSON was tried: no faster than JSON.stringify.)
 * Held weakly: a text goes with its object.
 */
const texts = new WeakMap<object, string>();

/** `JSON.stringify(value)`, made at most once per object. */
export function jsonText(value: object): string {
  let text = texts.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    texts.set(value, text);
  }
  return text;
}

/** Records `text` as the JSON of `value` (the caller guarantees it is exactly JSON.stringify(value)). */
export function knowJsonText(value: object, text: string): void {
  texts.set(value, text);
}

/** The known JSON text of `value`, if any (nothing is made). */
export function knownJsonText(value: object): string | undefined {
  return texts.get(value);
}
