import type { RecordKind, Store, StoreEvent } from "../store/store";
import { isSealed } from "../protocol/seal";
import { recordProblem } from "./check-snapshot";

/** Most events read to bring a cache up to date; more changes than that are read in full. */
export const MAX_EVENTS = 1_000;

const recordKinds = new Set<string>(["host", "stack", "service", "instance", "loadBalancer", "certificate"]);

export interface RecordRef {
  kind: RecordKind;
  id: string;
}

/**
 * The records that changed after revision `fromRev` up to `toRev`, from the environment's
 * newest events (newest first, as Store.newestEvents reads them): every write that changes
 * records bumps the revision once and adds an entry per record with that revision. Undefined
 * when the events cannot tell: a revision in between without an entry (a write that names no
 * record, such as a new pre-shared key, or an environment update half done), the oldest
 * change already trimmed from the stream or beyond `events`, or a kind this does not know.
 * `environment` entries name no record of the lists (the environment record is read on its
 * own). Pure.
 */
export function changedSince(events: StoreEvent[], fromRev: number, toRev: number): RecordRef[] | undefined {
  const seen = new Set<number>();
  const changed = new Map<string, RecordRef>();
  let reached = false;
  for (const { fields } of events) {
    const rev = Number(fields.rev);
    if (!Number.isSafeInteger(rev)) return undefined;
    if (rev > toRev) continue;
    if (rev <= fromRev) {
      reached = true;
      break;
    }
    seen.add(rev);
    if (fields.type === "environment") continue;
    if (!recordKinds.has(fields.type) || !fields.id) return undefined;
    changed.set(`${fields.type}\0${fields.id}`, { kind: fields.type as RecordKind, id: fields.id });
  }
  if (!reached) return undefined;
  for (let rev = fromRev + 1; rev <= toRev; rev++) if (!seen.has(rev)) return undefined;
  return [...changed.values()];
}

/**
 * The records changed since `fromRev`, as stored now, and the revision they are at: one read
 * of the newest events, one of the records they name. Undefined when only a full read can
 * tell (changedSince), when more was written between the two reads, or when a record read
 * is one a full read must refuse with its name (check-snapshot.ts) or must seal first (a
 * certificate key stored in the clear: RedisStore.snapshot).
 */
export async function changesFromEvents(store: Store, envId: string, fromRev: number): Promise<{ rev: number; refs: RecordRef[]; records: Array<{ id: string } | undefined> } | undefined> {
  for (let attempt = 1; ; attempt++) {
    const { rev, events } = await store.newestEvents(envId, MAX_EVENTS + 1);
    if (rev <= fromRev) return undefined;
    const refs = changedSince(events, fromRev, rev);
    if (!refs) return undefined;
    const read = await store.recordsWithRev(envId, refs);
    // More was written between the two reads: read both again, a few times. While hosts
    // register by the thousand (bench scale: about 35 a second per environment) one landed
    // there in about half the passes, and each of those read every record instead.
    if (read.rev !== rev) {
      if (attempt < EVENT_READ_ATTEMPTS) continue;
      return undefined;
    }
    for (const [k, record] of read.records.entries()) {
      if (record === undefined) continue;
      if (recordProblem(refs[k].kind, record) !== undefined) return undefined;
      if (refs[k].kind === "certificate" && typeof (record as { key?: unknown }).key === "string" && !isSealed((record as { key: string }).key)) return undefined;
    }
    return { rev, refs, records: read.records };
  }
}

/** Reads of the events and the records they name, while writes keep landing between the two. */
const EVENT_READ_ATTEMPTS = 4;
