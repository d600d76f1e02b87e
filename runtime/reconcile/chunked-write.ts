import type { Store, WriteBatch } from "../store/store";
import { changedBetween, recordsAt, type RecordRef } from "./event-refresh";

/** Others' creations that came between a pass's steps, as stored after its last step. */
export interface ForeignWrites {
  /** How many revisions they took. */
  revs: number;
  refs: RecordRef[];
  /** The records `refs` name, as stored at the last step's revision (undefined: gone). */
  records: Array<{ id: string } | undefined>;
}

/** Instance puts per write script when a pass writes many (bench scale: 25,000 in one pass). */
export const INSTANCE_PUTS_PER_WRITE = 2_500;

/**
 * A pass's batch in steps the store writes one after another, each fenced and checked against
 * the revision the previous one left: instance puts (new instances, instances with a new
 * observed status) alone in steps of `perWrite`, everything else (hosts, services, load
 * balancers, removals) with the last of them. One script over 25,000 records held the whole
 * batch as arguments three times over (record texts, the command, its bytes: ~50 MB on the
 * server at once) and kept Redis busy for a second; steps bound both.
 *
 * Not atomic as a whole: when another write that changes records lands between two steps, the
 * next one fails (RevisionMismatch, retryable) with the first ones applied. That leaves what a
 * pass that planned fewer instances or saw fewer reports would leave: every step is records a
 * later pass reads as they are (instances placed are counted, statuses are kept), and the
 * removals and the service records, whose order matters, go together in the last step. Small
 * batches are one write, as before.
 *
 * Every step also goes through after writes that only created records (WriteOptions
 * creationsSince): hosts registering by the thousand, or services created while a long pass
 * planned, used to make it lose and plan everything again.
 *
 * Returns the revision after the last step, how many steps there were, and whether nothing
 * came between them (`own`: the revisions from `readRev` on are this batch's alone, so a cache
 * may apply it instead of reading again: snapshot-cache.ts). When something did, `foreign`
 * says what, from the events it left (read after the step that followed it, and the records
 * once more after the last step), so that the cache can take it in too; absent when the
 * events cannot tell.
 */
export async function writeInSteps(store: Store, envId: string, batch: Required<WriteBatch>, readRev: number, fence: number, perWrite = INSTANCE_PUTS_PER_WRITE): Promise<{ rev: number; steps: number; own: boolean; foreign?: ForeignWrites }> {
  const instances = batch.put.filter((p) => p.kind === "instance");
  const steps: WriteBatch[] = [];
  if (instances.length <= perWrite) steps.push(batch);
  else {
    const others = batch.put.filter((p) => p.kind !== "instance");
    for (let from = 0; from < instances.length; from += perWrite) {
      const last = from + perWrite >= instances.length;
      steps.push({ put: [...instances.slice(from, from + perWrite), ...(last ? others : [])], remove: last ? batch.remove : [] });
    }
  }
  let rev = readRev;
  let own = true;
  let foreignRevs = 0;
  let told = true;
  const foreign = new Map<string, RecordRef>();
  for (const step of steps) {
    const written = await store.writeOn(envId, step, { expectRev: rev, creationsSince: true, fence });
    if (written.onRev !== rev) {
      own = false;
      foreignRevs += written.onRev - rev;
      const entries = (step.put?.length ?? 0) + (step.remove?.length ?? 0);
      const refs = told ? await changedBetween(store, envId, rev, written.onRev, entries) : undefined;
      if (refs) for (const ref of refs) foreign.set(`${ref.kind}\0${ref.id}`, ref);
      else told = false;
    }
    rev = written.rev;
  }
  if (own || !told) return { rev, steps: steps.length, own };
  const refs = [...foreign.values()];
  const records = await recordsAt(store, envId, refs, rev);
  return { rev, steps: steps.length, own, ...(records ? { foreign: { revs: foreignRevs, refs, records } } : {}) };
}
