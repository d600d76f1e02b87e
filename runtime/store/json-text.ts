/**
 * JSON texts of objects that are never changed in place (instance specs: records are copied,
 * not edited, see reconcile/snapshot-cache.ts), made once per object. A pass that places
 * 25,000 instances used to stringify each new spec three times: for the desired document's
 * digest, for the instance record it writes and for the desired document it writes; the
 * instance factory now hands its texts over here as it makes the specs, and all three reuse
 * them. Held weakly: a text goes with its object.
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
