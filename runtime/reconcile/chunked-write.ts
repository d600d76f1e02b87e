import type { Store, WriteBatch } from "../store/store";

/**
 * The steps of a batch that went through so far: their batches in order, the revision the
 * last one left, and whether each was checked against the one before (`own`, as returned).
 */
export interface StepsWritten {
  batches: Array<Required<WriteBatch>>;
  rev: number;
  own: boolean;
}

export function newStepsWritten(readRev: number): StepsWritten {
  return { batches: [], rev: readRev, own: true };
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
 * may apply it instead of reading again: snapshot-cache.ts). `progress` follows the steps as
 * they go through, for a caller whose write is refused part way.
 */
export async function writeInSteps(store: Store, envId: string, batch: Required<WriteBatch>, readRev: number, fence: number, perWrite = INSTANCE_PUTS_PER_WRITE,
  progress: StepsWritten = newStepsWritten(readRev)): Promise<{ rev: number; steps: number; own: boolean }> {
  const instances = batch.put.filter((p) => p.kind === "instance");
  const steps: Array<Required<WriteBatch>> = [];
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
  let next = store.prepareWrite(envId, steps[0]);
  for (let k = 0; k < steps.length; k++) {
    const sending = store.writeOn(envId, await next, { expectRev: rev, creationsSince: true, fence });
    if (k + 1 < steps.length) {
      sending.catch(() => undefined); // awaited below: a refusal meanwhile is not unhandled
      // The next step's texts (2,500 records' JSON) are made while this one is in Redis: one
      // after the other, each step waited for both. Once this one is on its way: the client
      // sends at the end of the tick.
      await new Promise((resolve) => setImmediate(resolve));
      next = store.prepareWrite(envId, steps[k + 1]);
      // A bad record in it fails the write when its turn comes, as before, not here.
      next.catch(() => undefined);
    }
    const written = await sending;
    if (written.onRev !== rev) own = false;
    rev = written.rev;
    progress.batches.push(steps[k]);
    progress.rev = rev;
    progress.own = own;
  }
  return { rev, steps: steps.length, own };
}
