/** The common shape of every resource: `id`, `type`, the record's fields, `links`, `actions`. */
export interface ResourceJson {
  id: string;
  type: string;
  links: Record<string, string>;
  actions: Record<string, string>;
  [field: string]: unknown;
}

/**
 * `shown` is what the presenter picked from its record (an allow-list, see pick()): never a
 * whole record, or a secret field added to the record later would be shown by accident.
 */
export function resource<R extends { id: string }>(
  type: string,
  shown: R,
  links: Record<string, string>,
  actions: Record<string, string>,
): ResourceJson {
  // id and type first, as Rancher shows them.
  return Object.assign({ id: shown.id, type }, shown, { links, actions });
}

/** `{name: url}` for the actions a resource offers in its current state. */
export function actionLinks(selfUrl: string, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, `${selfUrl}?action=${encodeURIComponent(name)}`]));
}

/** The given fields of a record that are set, in the order given (presenters list what they show). */
export function pick<R extends object, K extends keyof R>(record: R, fields: readonly K[]): Partial<Pick<R, K>> {
  const out: Partial<Pick<R, K>> = {};
  for (const f of fields) if (record[f] !== undefined) out[f] = record[f];
  return out;
}
