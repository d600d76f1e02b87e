/**
 * Optimistic concurrency for API writes: read a snapshot, validate and plan against it,
 * write with `expectRev` = the snapshot's revision, and start over (a few times) when
 * another writer got in between. A plan that throws rejects the request with nothing written.
 */
import { DroverError, isDroverError } from "../protocol/errors";
import type { EnvironmentRecord, HostRecord, InstanceRecord } from "../protocol/model";
import type { EnvSnapshot, OmittableList, RefsSnapshot, SnapshotWithout, SnapshotWithoutInstances, WriteBatch, WriteOptions } from "../store/store";
import type { ApiContext } from "./options";

const ATTEMPTS = 8;

export interface Plan<T> {
  /** Empty (or absent) = nothing to change; the result is returned without a write. */
  batch?: WriteBatch;
  result: T;
}

export async function writeEnv<T>(api: ApiContext, envId: string, plan: (snap: EnvSnapshot) => Plan<T> | Promise<Plan<T>>): Promise<T> {
  return writeFrom(api, envId, [] as never[], plan);
}

/** Both lists that grow with the fleet: what createInEnv, updateInEnv and writeRefs read without. */
const HOSTS_AND_INSTANCES: readonly OmittableList[] = ["hosts", "instances"];

/**
 * A record created from a plan that never looks at hosts or instances and that no other writer's
 * creation can make wrong (a stack, a service, a certificate: names are unique in the write
 * script, links and stacks can only go away through updates). The snapshot comes without hosts
 * and instances (Store.snapshotWithout; the type keeps the plan from reading them: 20 service
 * POSTs into environments of 1,250 hosts each read and parsed every host record), and the write
 * goes through after other writers' creations (WriteOptions.creationsSince): the reconcile
 * leader placing instances by the thousand, or other services created at the same moment
 * (one `pulumi up`), made these writes lose and start over (bench scale: 20 service POSTs
 * answered over 18 s).
 */
export async function createInEnv<T>(api: ApiContext, envId: string, plan: (snap: RefsSnapshot) => Plan<T> | Promise<Plan<T>>): Promise<T> {
  return writeFrom(api, envId, HOSTS_AND_INSTANCES, plan, { creationsSince: true });
}

/**
 * A change to records whose plan reads no host or instance (a stack's or a certificate's own
 * fields; a service's spec or scale: what placement it asks for is checked against hosts and
 * instances the plan reads itself, as advice: hostsAndInstancesOnce) and that no other writer's
 * creation can make wrong (a delete that must take dependants along, such as a stack's services,
 * is not one). The snapshot comes without hosts and instances (a host's own change:
 * updateHostInEnv), and the write goes through after other writers' writes that changed no
 * record but instances (WriteOptions.recordsKeptSince): the reconcile leader writing 25,000
 * placements or agents' reports in steps made such a write lose and read the whole
 * environment again, instances included (bench scale: a stack PATCH answered after 7.4 s).
 * The plan may not write instances itself.
 */
export async function updateInEnv<T>(api: ApiContext, envId: string, plan: (snap: RefsSnapshot) => Plan<T> | Promise<Plan<T>>): Promise<T> {
  return writeFrom(api, envId, HOSTS_AND_INSTANCES, plan, { recordsKeptSince: true });
}

/** updateInEnv for a change to a host's own record (actions, labels, machine access): the snapshot has the hosts. */
export async function updateHostInEnv<T>(api: ApiContext, envId: string, plan: (snap: SnapshotWithoutInstances) => Plan<T> | Promise<Plan<T>>): Promise<T> {
  return writeFrom(api, envId, ["instances"], plan, { recordsKeptSince: true });
}

/** writeEnv for a plan that reads no instance (the type keeps it from): the snapshot comes without them. */
export async function writeWithoutInstances<T>(api: ApiContext, envId: string, plan: (snap: SnapshotWithoutInstances) => Plan<T> | Promise<Plan<T>>): Promise<T> {
  return writeFrom(api, envId, ["instances"], plan);
}

/** writeEnv for a plan that reads neither hosts nor instances (deleting a stack, a service, a certificate). */
export async function writeRefs<T>(api: ApiContext, envId: string, plan: (snap: RefsSnapshot) => Plan<T> | Promise<Plan<T>>): Promise<T> {
  return writeFrom(api, envId, HOSTS_AND_INSTANCES, plan);
}

/**
 * The environment's instances, read the first time they are asked for and kept for the
 * request's later attempts. For checks that are advice taken at one moment (a scale-up's
 * placement, a load balancer's source ports: the leader places against what is stored when it
 * runs, and reports what it cannot place) and for showing a record's instances: a read per lost
 * race would buy nothing, and at 25,000 instances each read is the request's largest cost.
 */
export function instancesOnce(api: ApiContext, envId: string): () => Promise<InstanceRecord[]> {
  let read: Promise<InstanceRecord[]> | undefined;
  return () => (read ??= api.store.list(envId, "instance"));
}

/** instancesOnce with the hosts too, read alongside: what a placement check (assertPlaceable) needs besides the plan's snapshot. */
export function hostsAndInstancesOnce(api: ApiContext, envId: string): () => Promise<{ hosts: HostRecord[]; instances: InstanceRecord[] }> {
  let read: Promise<{ hosts: HostRecord[]; instances: InstanceRecord[] }> | undefined;
  return () => (read ??= Promise.all([api.store.list(envId, "host"), api.store.list(envId, "instance")]).then(([hosts, instances]) => ({ hosts, instances })));
}

/** Which other writers' writes since its snapshot a write goes through after (none: strict). */
type Tolerance = Pick<WriteOptions, "creationsSince" | "recordsKeptSince">;

async function writeFrom<T, K extends OmittableList>(
  api: ApiContext, envId: string, leaveOut: readonly K[], plan: (snap: SnapshotWithout<K>) => Plan<T> | Promise<Plan<T>>, tolerance: Tolerance = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const snap = await api.store.snapshotWithout(envId, leaveOut);
    assertEnvWritable(snap.env);
    const { batch, result } = await plan(snap);
    if (!batch || ((batch.put?.length ?? 0) === 0 && (batch.remove?.length ?? 0) === 0)) return result;
    // Not lost races: plans these helpers must never be given.
    if (tolerance.creationsSince && (batch.remove?.length || (batch.put ?? []).some((p) => !isNewIn(snap, p.kind, p.record.id)))) {
      throw new DroverError("Internal", "createInEnv: a plan may only create records");
    }
    if (tolerance.recordsKeptSince && [...(batch.put ?? []), ...(batch.remove ?? [])].some((c) => c.kind === "instance")) {
      throw new DroverError("Internal", "updateInEnv: a plan may not write instances");
    }
    try {
      const rev = await api.store.write(envId, batch, { expectRev: snap.rev, ...tolerance });
      for (const { record } of batch.put ?? []) record.rev = rev;
      api.nudge(envId);
      return result;
    } catch (err) {
      if (!isDroverError(err) || err.code !== "RevisionMismatch") throw err;
      if (attempt >= ATTEMPTS) {
        throw new DroverError("RevisionMismatch", `environment ${envId} kept changing; try again`, { retryable: true, cause: err });
      }
      // A little random back-off, so writers that collided do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}

/** Writes into an environment that is being torn down would race the purge. */
export function assertEnvWritable(env: EnvironmentRecord): void {
  if (env.state !== "active") {
    throw new DroverError("Conflict", `environment ${env.id} is ${env.state}; it takes no changes`);
  }
}

/** Whether the snapshot shows the record is new: a kind whose list it left out (hosts, instances) cannot be shown new. */
function isNewIn(snap: Partial<EnvSnapshot>, kind: string, id: string): boolean {
  const lists: Record<string, { id: string }[] | undefined> = {
    host: snap.hosts, stack: snap.stacks, service: snap.services, loadBalancer: snap.loadBalancers ?? [], certificate: snap.certificates ?? [],
  };
  const list = lists[kind];
  return list !== undefined && !list.some((r) => r.id === id);
}
