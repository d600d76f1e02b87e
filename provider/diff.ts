/**
 * A local, deterministic diff of old outputs against new inputs. Fields in `replace` need a
 * new resource, fields in `update` an in-place update; a value preview does not know yet
 * counts as changed. Names are unique on the server, so a replacement that keeps its name
 * deletes the old resource first.
 */
import { canonical } from "./sanitize";
import { containsUnknown, isUnknown } from "./unknown";

export interface DiffSpec {
  replace: readonly string[];
  update: readonly string[];
  /** The field the server keeps unique (name). */
  nameField: string;
  /** Outputs fixed for the resource's life (its id, keys the server made at create): stable unless it is replaced. */
  stableOutputs?: readonly string[];
}

export interface DiffOutcome {
  changes: boolean;
  replaces: string[];
  stables: string[];
  deleteBeforeReplace: boolean;
}

export function diffInputs(olds: Record<string, any>, news: Record<string, any>, spec: DiffSpec): DiffOutcome {
  const changed = (k: string) => containsUnknown(news[k]) || canonical(olds[k] ?? null) !== canonical(news[k] ?? null);
  const replaces = spec.replace.filter(changed);
  const updates = spec.update.filter(changed);
  // Declared for the engine's display; what keeps dependents quiet is that each class's id
  // output is its resource id, which the engine keeps known through an update's preview.
  const stables = [...spec.replace.filter((k) => !replaces.includes(k)), ...(replaces.length === 0 ? spec.stableOutputs ?? [] : [])];
  const keepsName = !isUnknown(news[spec.nameField]) && olds[spec.nameField] === news[spec.nameField];
  return {
    changes: replaces.length + updates.length > 0,
    replaces,
    stables,
    deleteBeforeReplace: replaces.length > 0 && keepsName,
  };
}
