/**
 * A spec as answers and events show it: its secrets' names only (`secretNames`), never
 * their values, sealed or not.
 */
export function withoutSecrets<S extends { secrets?: Record<string, string> }>(spec: S): Omit<S, "secrets"> & { secretNames?: string[] } {
  const { secrets, ...rest } = spec;
  const names = Object.keys(secrets ?? {}).sort();
  return names.length ? { ...rest, secretNames: names } : rest;
}
