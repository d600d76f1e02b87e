/** What an allocation returns: the planner reports failures per service instead of throwing. */
import { DroverError } from "../protocol/errors";

export type IpamResult = { ok: true; value: string } | { ok: false; error: DroverError };

export function allocated(value: string): IpamResult {
  return { ok: true, value };
}

/** Exhaustion (or a record the allocator cannot use): the instance or host cannot be placed. */
export function notAllocated(message: string): IpamResult {
  return { ok: false, error: new DroverError("Unplaceable", message) };
}
