import type { Store, WriteBatch } from "../store/store";

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
 * Not atomic as a whole: when another write lands between two steps, the next one fails
 * (RevisionMismatch, retryable) with the first ones applied. That leaves what a pass that
 * planned fewer instances or saw fewer reports would leave: every step is records a later pass
 * reads as they are (instances placed are counted, statuses are kept), and the removals and the
 * service records, whose order matters, go together in the last step. Small batches are one
 * write, as before. Returns the revision after the last step and how many steps there were.
 */
export async function writeInSteps(store: Store, envId: string, batch: Required<WriteBatch>, readRev: number, fence: number, perWrite = INSTANCE_PUTS_PER_WRITE): Promise<{ rev: number; steps: number }> {
  const instances = batch.put.filter((p) => p.kind === "instance");
  if (instances.length <= perWrite) return { rev: await store.write(envId, batch, { expectRev: readRev, fence }), steps: 1 };
  const others = batch.put.filter((p) => p.kind !== "instance");
  let rev = readRev;
  let steps = 0;
  for (let from = 0; from < instances.length; from += perWrite) {
    const last = from + perWrite >= instances.length;
    const step: WriteBatch = { put: [...instances.slice(from, from + perWrite), ...(last ? others : [])], remove: last ? batch.remove : [] };
    rev = await store.write(envId, step, { expectRev: rev, fence });
    steps++;
  }
  return { rev, steps };
}
