/** Stack bodies: create, and PUT (replace) / PATCH (merge) updates. */
import type { StackRecord } from "../../protocol/model";
import { Problems } from "./problems";
import { ObjectReader } from "./reader";
import { DESCRIPTION, NAME } from "./rules";

export interface StackCreate {
  name: string;
  description?: string;
  stackWideDiscovery?: boolean;
}

export type UpdateMode = "replace" | "merge";

const FIELDS = ["name", "description", "stackWideDiscovery"];

export function validateStackCreate(body: unknown, existing: StackRecord[]): StackCreate {
  const p = new Problems();
  const r = new ObjectReader(p, body, "", FIELDS);
  const name = r.string("name", { ...NAME, required: true });
  const description = r.string("description", DESCRIPTION);
  const stackWideDiscovery = r.boolean("stackWideDiscovery");
  if (p.ok && existing.some((s) => s.name === name)) p.add("Conflict", "name", `a stack named ${name} already exists in this environment`);
  p.throwIfAny();
  return {
    name: name!,
    ...(description !== undefined ? { description } : {}),
    ...(stackWideDiscovery !== undefined ? { stackWideDiscovery } : {}),
  };
}

/** The stack after the update. Names are immutable: they are baked into container and DNS names. */
export function validateStackUpdate(body: unknown, current: StackRecord, mode: UpdateMode): StackRecord {
  const p = new Problems();
  const r = new ObjectReader(p, body, "", FIELDS);
  const name = r.string("name", NAME);
  if (name !== undefined && name !== current.name) p.invalid("name", `the stack's name ${current.name} (names cannot change)`, name);
  const description = r.string("description", DESCRIPTION);
  const stackWideDiscovery = r.boolean("stackWideDiscovery");
  p.throwIfAny();
  const next: StackRecord = { ...current };
  if (description !== undefined) next.description = description;
  else if (mode === "replace") delete next.description;
  if (stackWideDiscovery !== undefined) next.stackWideDiscovery = stackWideDiscovery;
  else if (mode === "replace") delete next.stackWideDiscovery;
  return next;
}
