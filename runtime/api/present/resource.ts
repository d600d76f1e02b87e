/** The common shape of every resource: `id`, `type`, the record's fields, `links`, `actions`. */
export interface ResourceJson {
  id: string;
  type: string;
  links: Record<string, string>;
  actions: Record<string, string>;
  [field: string]: unknown;
}

export function resource<R extends { id: string }>(
  type: string,
  record: R,
  links: Record<string, string>,
  actions: Record<string, string>,
): ResourceJson {
  // id and type first, as Rancher shows them.
  return Object.assign({ id: record.id, type }, record, { links, actions });
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
