import type Redis from "ioredis";
import { DroverError } from "../protocol/errors";
import type { Keys } from "../protocol/keys";
import type { EnvSnapshot, RecordKind, Store, WriteBatch } from "../store/store";
import { byCreation } from "../store/record-json";
import { hasClearSecrets } from "../secrets/record-sealing";
import type { InstanceRecord } from "../protocol/model";
import { jsonText } from "./json-text";
import { changesFromEvents, MAX_EVENTS } from "./event-refresh";

type Lists = Pick<EnvSnapshot, "hosts" | "stacks" | "services" | "instances" | "loadBalancers" | "certificates">;
type ListName = keyof Lists;
type AnyRecord = { id: string; createdAt?: string; rev: number };

const listOf: Record<RecordKind, ListName> = {
  host: "hosts", stack: "stacks", service: "services", instance: "instances", loadBalancer: "loadBalancers", certificate: "certificates",
};

/**
 * The environment's records as its leader last read or wrote them, at revision `rev`: the
 * reconcile pass starts from them when the environment's revision has not moved since, instead
 * of reading and parsing every record again (at 25,000 instances, a quarter of a pass's time
 * and most of its memory). The leader is the only writer between two of its passes in the
 * steady state (its own batches are applied here as the store wrote them); other writes (an
 * API write, the leader's own write-back of reports) are taken from the events they left,
 * record by record (event-refresh.ts), and only what the events cannot tell makes the next
 * pass read everything afresh.
 *
 * Records are shared between passes, so the planner must never change one in place (it does
 * not: every change is a copy, written through the batch).
 */
export interface SnapshotCache {
  records?: { rev: number; lists: Lists; byId: Record<ListName, Map<string, AnyRecord>> };
}

/**
 * The environment's snapshot: from the cache when the stored revision is the cached one
 * (one GET and the environment record), otherwise read in full (store.snapshot) and cached;
 * `fresh` when it was read (its records not yet checked by this leader).
 */
export async function readSnapshot(store: Store, redis: Redis, keys: Keys, envId: string, cache?: SnapshotCache): Promise<{ snapshot: EnvSnapshot; fresh: boolean }> {
  const cached = cache?.records;
  if (cached) {
    const rev = await redis.get(keys.env(envId).rev);
    // Others wrote since (an API write, the leader's own report write-back): the records they
    // changed, from the events, instead of every record (event-refresh.ts).
    // Every revision leaves at least one event: past MAX_EVENTS revisions the events cannot tell.
    const gap = rev === null ? 0 : Number(rev) - cached.rev;
    const current = gap > 0 && gap <= MAX_EVENTS && await changesFromEvents(store, envId, cached.rev);
    if (current) applyChanges(cached, current.rev, current.refs, current.records);
    if (rev !== null && (Number(rev) === cached.rev || current)) {
      const env = await store.getEnvironment(envId);
      if (!env) throw new DroverError("NotFound", `environment ${envId} not found`, { field: "envId" });
      // The environment record running ahead of the revision read: read everything (store.snapshot's rule).
      if (env.rev <= cached.rev) return { snapshot: { env, rev: cached.rev, ...cached.lists }, fresh: false };
    }
    // What is cached goes before the read, so that the two are not both held.
    cache!.records = undefined;
  }
  const snapshot = await store.snapshot(envId);
  shareEqualSpecs(snapshot.instances);
  if (cache) cache.records = cacheOf(snapshot);
  return { snapshot, fresh: true };
}

/**
 * Records others wrote, as read at revision `rev` (undefined: gone), applied to the cache,
 * which is then at `rev`. Lists whose membership changed are sorted again (store.snapshot's
 * order); the others keep theirs.
 */
function applyChanges(cached: NonNullable<SnapshotCache["records"]>, rev: number, refs: Array<{ kind: RecordKind; id: string }>, records: Array<{ id: string } | undefined>): void {
  const touched = new Set<ListName>();
  const reordered = new Set<ListName>();
  refs.forEach(({ kind, id }, k) => {
    const name = listOf[kind];
    const record = records[k] as AnyRecord | undefined;
    const had = cached.byId[name].has(id);
    if (record) {
      cached.byId[name].set(id, record);
      touched.add(name);
      if (!had) reordered.add(name);
    } else if (had) {
      cached.byId[name].delete(id);
      reordered.add(name);
    }
  });
  for (const name of touched) {
    if (reordered.has(name)) continue;
    const byId = cached.byId[name];
    (cached.lists[name] as AnyRecord[]) = (cached.lists[name] as AnyRecord[]).map((r) => byId.get(r.id)!);
  }
  for (const name of reordered) (cached.lists[name] as AnyRecord[]) = [...cached.byId[name].values()].sort(byCreation);
  cached.rev = rev;
}

/**
 * Instances whose specs are the same JSON text made to share one spec object, as the
 * instances a pass places already do (instance-factory.ts): read from Redis, 25,000 instances
 * came with 25,000 copies of a service's five specs, most of what a fresh read kept in memory,
 * and every pass after it stringified each copy again for the desired documents' digests
 * (json-text.ts keeps one text per object). Freshly parsed records only: nothing shares them
 * yet, and specs are never changed in place.
 */
export function shareEqualSpecs(instances: InstanceRecord[]): void {
  const shared = new Map<string, InstanceRecord["spec"]>();
  for (const i of instances) {
    const text = jsonText(i.spec);
    const first = shared.get(text);
    if (first === undefined) shared.set(text, i.spec);
    else i.spec = first;
  }
}

function cacheOf(snapshot: EnvSnapshot): NonNullable<SnapshotCache["records"]> {
  const lists: Lists = {
    hosts: snapshot.hosts, stacks: snapshot.stacks, services: snapshot.services, instances: snapshot.instances,
    loadBalancers: snapshot.loadBalancers ?? [], certificates: snapshot.certificates ?? [],
  };
  const byId = Object.fromEntries((Object.keys(lists) as ListName[]).map((name) =>
    [name, new Map((lists[name] as AnyRecord[]).map((r) => [r.id, r]))])) as Record<ListName, Map<string, AnyRecord>>;
  return { rev: snapshot.rev, lists, byId };
}

/**
 * After the pass's own fenced write of `batch` in `steps` scripts (chunked-write.ts), the
 * first checked against `readRev` and each against the one before (so nothing else came
 * between), which left `newRev`: the records as the write scripts stored them (every put
 * with its step's revision, removals gone; recorded here with `newRev`, the revision the next
 * pass compares, as no pass reads a record's own rev to decide). Anything it cannot follow
 * exactly (a revision it does not expect, secrets the store sealed on the way) drops the cache.
 */
export function applyOwnWrite(cache: SnapshotCache, readRev: number, batch: Required<WriteBatch>, newRev: number, steps = 1): void {
  const cached = cache.records;
  if (!cached) return;
  if (cached.rev !== readRev || (newRev !== readRev && newRev !== readRev + steps) || hasClearSecrets(batch)) {
    cache.records = undefined;
    return;
  }
  if (newRev === readRev) return; // the script changed nothing
  const touched = new Set<ListName>();
  // Lists whose membership changed are sorted again (store.snapshot's order); the others keep theirs.
  const reordered = new Set<ListName>();
  for (const { kind, record } of batch.put) {
    const name = listOf[kind];
    if (!cached.byId[name].has(record.id)) reordered.add(name);
    // As the script stores it: the record's text with rev = the new revision.
    cached.byId[name].set(record.id, { ...(record as AnyRecord), rev: newRev });
    touched.add(name);
  }
  for (const { kind, id } of batch.remove) {
    const name = listOf[kind];
    if (cached.byId[name].delete(id)) reordered.add(name);
  }
  for (const name of touched) {
    const byId = cached.byId[name];
    (cached.lists[name] as AnyRecord[]) = reordered.has(name)
      ? [...byId.values()].sort(byCreation)
      : (cached.lists[name] as AnyRecord[]).map((r) => byId.get(r.id)!);
  }
  for (const name of reordered) if (!touched.has(name)) (cached.lists[name] as AnyRecord[]) = [...cached.byId[name].values()].sort(byCreation);
  cached.rev = newRev;
}
