/** Fetching one record of an environment the caller may see (404 otherwise). */
import { DroverError } from "../../protocol/errors";
import type { RecordKind, RecordOf } from "../../store/store";
import { visibleEnv } from "../auth";
import type { AuthedContext } from "../context";

export async function visibleRecord<K extends RecordKind>(ctx: AuthedContext, kind: K): Promise<RecordOf<K>> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const record = await ctx.api.store.get(env.id, kind, ctx.params.id);
  if (!record) throw notFound(kind, ctx.params.id);
  return record;
}

export function notFound(kind: string, id: string): DroverError {
  return new DroverError("NotFound", `no ${kind} ${id} in this environment`);
}

/** Finds a record in a snapshot list, or fails with 404. */
export function findIn<T extends { id: string }>(records: T[], kind: string, id: string): T {
  const found = records.find((r) => r.id === id);
  if (!found) throw notFound(kind, id);
  return found;
}
