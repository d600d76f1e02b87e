import t from "tap";
import type { EnvironmentRecord, HostRecord, ServiceRecord, StackRecord } from "../../../runtime/protocol/model";
import { ReconcileManager } from "../../../runtime/reconcile/manager";
import type { Store } from "../../../runtime/store/store";
import { storeFixture } from "../store/store-fixture";
import { waitFor } from "../../support/wait";

// A server leading several environments runs their passes in turn, the next one starting as
// soon as the one before has written its records: the desired documents of the first (on a
// large environment, seconds of small scripts) no longer hold up the second's placements.
// On a real Redis; the first environment's desired documents are held back by the test.
const f = storeFixture(t);
const now = () => new Date().toISOString();

async function environment(id: string): Promise<EnvironmentRecord> {
  const env = await f.store.createEnvironment({ id, name: id, network: { cidr: "10.42.0.0/16", hostSubnetPrefix: 24 }, state: "active", createdAt: now() }, `k-${id}`, `t-${id}`);
  const stack: StackRecord = { id: "st1", envId: id, name: "app", state: "active", createdAt: now(), rev: 0 };
  const host: HostRecord = { id: "h1", envId: id, name: "h1", labels: {}, state: "active", deactivated: false, createdAt: now(), rev: 0 };
  await f.store.write(id, { put: [{ kind: "stack", record: stack }, { kind: "host", record: host }] });
  await f.redis.set(f.keys.host(id, "h1").heartbeat, "{}", "PX", 120_000);
  return env;
}

function service(envId: string, scale: number): ServiceRecord {
  return {
    id: "1sweb", envId, stackId: "st1", name: "web", specVersion: 1, state: "active", transitioning: "yes", createdAt: now(), rev: 0,
    spec: { image: "local/busybox", env: {}, ports: [], scale, global: false, links: {}, labels: {}, restartPolicy: { name: "always" } },
  };
}

/** The store, with `envId`'s desired documents written only once `gate` opens. */
function gatedDesired(envId: string, gate: Promise<void>): { store: Store; held: () => number } {
  const gates = armedGates({ [envId]: { desired: gate } });
  gates.armed = true;
  return { store: gates.store, held: () => gates.held(envId, "desired") };
}

/** A promise the test resolves: what waits on it goes on once it is opened. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => { open = resolve; });
  return { wait, open };
}

/**
 * The store, with each environment's desired documents (`desired`) and record writes (`write`)
 * going on only once their gate opens, from the moment `armed` is set.
 */
function armedGates(byEnv: Record<string, { desired?: Promise<void>; write?: Promise<void> }>) {
  const counts = new Map<string, number>();
  const state = {
    armed: false,
    store: undefined as unknown as Store,
    held: (envId: string, which: "desired" | "write") => counts.get(`${envId}/${which}`) ?? 0,
  };
  const gated = { setDesired: "desired", writeOn: "write" } as const;
  state.store = new Proxy(f.store, {
    get(target, prop, receiver) {
      const which = gated[prop as keyof typeof gated];
      if (which) {
        return async (...args: unknown[]) => {
          const envId = args[0] as string;
          const wait = byEnv[envId]?.[which];
          if (wait && state.armed) {
            counts.set(`${envId}/${which}`, state.held(envId, which) + 1);
            await wait;
          }
          return (target[prop as keyof typeof gated] as (...a: unknown[]) => Promise<unknown>)(...args);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Store;
  return state;
}

/** Until the manager has found each of `envIds` with nothing to do at a tick (its first turns over). */
async function settled(manager: ReconcileManager, envIds: string[]): Promise<void> {
  await waitFor(() => envIds.every((id) => manager.quietSkipsOf(id) >= 1), { what: `${envIds.join(" and ")} settled`, timeoutMs: 10_000 });
}

/** A manager over `store` (the test's gated one), stopped with the test after its gates open. */
function startManager(t: { teardown(fn: () => unknown): void }, store: Store, serverId: string, gates: Array<{ open: () => void }>): ReconcileManager {
  const manager = new ReconcileManager({
    store, lease: f.lease, redis: f.redis, blockingRedis: f.connect(), keys: f.keys, serverId,
    graceMs: 30_000, tickMs: 200, leaseTtlMs: 5_000, log: () => undefined,
  });
  manager.start();
  t.teardown(async () => {
    for (const g of gates) g.open();
    await manager.stop();
  });
  return manager;
}

t.test("the next environment's pass starts once the one before has written its records", async (t) => {
  // Created first, so it comes first in every loop over the led environments.
  const first = await environment("e-first");
  const second = await environment("e-second");
  const desired = gate();
  const { store, held } = gatedDesired(first.id, desired.wait);
  startManager(t, store, "srv-turn", [desired]);

  for (const e of [first, second]) await f.store.write(e.id, { put: [{ kind: "service", record: service(e.id, 2) }] });
  const placed = async (envId: string) => (await f.store.list(envId, "instance")).length;
  await waitFor(async () => (await placed(first.id)) === 2 && held() > 0, { what: "the first environment's instances written, its desired document held back", timeoutMs: 10_000 });
  // The first pass is still writing its documents: the second environment's goes on meanwhile.
  await waitFor(async () => (await placed(second.id)) === 2, { what: "the second environment's instances placed while the first's documents wait", timeoutMs: 10_000 });
  const secondDoc = await waitFor(async () => {
    const doc = await f.store.getDesired(second.id, "h1");
    return doc?.instances.length === 2 ? doc : undefined;
  }, { what: "the second environment's desired document written", timeoutMs: 10_000 });
  t.equal(secondDoc.instances.length, 2, "the second environment's agent is told of its instances");
  t.notOk((await f.store.getDesired(first.id, "h1"))?.instances.length, "the first environment's document is still held back");

  desired.open();
  const firstDoc = await waitFor(async () => {
    const doc = await f.store.getDesired(first.id, "h1");
    return doc?.instances.length === 2 ? doc : undefined;
  }, { what: "the first environment's desired document written once let go", timeoutMs: 10_000 });
  t.equal(firstDoc.instances.length, 2, "the first environment's agent is told of its instances too");
});

t.test("an environment written to while another's pass runs starts before that pass's documents are all written", async (t) => {
  const first = await environment("e-busy");
  const second = await environment("e-late");
  const desired = gate();
  const write = gate();
  const gates = armedGates({ [first.id]: { desired: desired.wait, write: write.wait } });
  const manager = startManager(t, gates.store, "srv-late", [desired, write]);
  // The new leader's first turns over (both due at once, and again for their own writes), so the next turn has the first one alone.
  await settled(manager, [first.id, second.id]);
  gates.armed = true;

  await f.store.write(first.id, { put: [{ kind: "service", record: service(first.id, 2) }] });
  await waitFor(() => gates.held(first.id, "write") > 0, { what: "the first environment's pass at its records write", timeoutMs: 10_000 });
  // The second environment gets work while the first's pass is under way: not due when it began.
  await f.store.write(second.id, { put: [{ kind: "service", record: service(second.id, 2) }] });
  write.open();
  const placed = async (envId: string) => (await f.store.list(envId, "instance")).length;
  await waitFor(async () => (await placed(first.id)) === 2 && gates.held(first.id, "desired") > 0, { what: "the first environment's instances written, its desired document held back", timeoutMs: 10_000 });
  await waitFor(async () => (await f.store.getDesired(second.id, "h1"))?.instances.length === 2,
    { what: "the second environment placed and told while the first's documents wait", timeoutMs: 10_000 });
  t.equal(await placed(second.id), 2, "the second environment's instances are placed");
  t.notOk((await f.store.getDesired(first.id, "h1"))?.instances.length, "the first environment's document is still held back");
  desired.open();
  await waitFor(async () => (await f.store.getDesired(first.id, "h1"))?.instances.length === 2,
    { what: "the first environment's desired document written once let go", timeoutMs: 10_000 });
});

t.test("an environment whose pass this turn has ended and that gets work again starts again before the turn ends", async (t) => {
  // bench scale: an environment's pass read just before its services landed, ended early, and
  // its placements then waited for another environment's whole pass, documents included.
  const quick = await environment("e-quick");
  const slow = await environment("e-slow");
  const quickWrite = gate();
  const quickDesired = gate();
  const slowWrite = gate();
  const slowDesired = gate();
  const gates = armedGates({ [quick.id]: { write: quickWrite.wait, desired: quickDesired.wait }, [slow.id]: { write: slowWrite.wait, desired: slowDesired.wait } });
  const manager = startManager(t, gates.store, "srv-again", [quickWrite, quickDesired, slowWrite, slowDesired]);
  await settled(manager, [quick.id, slow.id]);
  gates.armed = true;

  const svc = (envId: string, id: string, scale: number) => ({ ...service(envId, scale), id, name: id.slice(2) });
  await f.store.write(quick.id, { put: [{ kind: "service", record: svc(quick.id, "1sone", 1) }] });
  await waitFor(() => gates.held(quick.id, "write") > 0, { what: "the quick environment's pass at its records write", timeoutMs: 10_000 });
  await f.store.write(slow.id, { put: [{ kind: "service", record: svc(slow.id, "1sweb", 2) }] });
  quickWrite.open();
  // The slow one joined the turn once the quick one's records were written; both now wait.
  await waitFor(() => gates.held(slow.id, "write") > 0 && gates.held(quick.id, "desired") > 0,
    { what: "the slow environment at its records write, the quick one at its documents", timeoutMs: 10_000 });
  // The quick environment gets more work, and its pass of this turn ends.
  await f.store.write(quick.id, { put: [{ kind: "service", record: svc(quick.id, "1stwo", 2) }] });
  quickDesired.open();
  await waitFor(async () => (await f.store.getDesired(quick.id, "h1"))?.instances.length === 1, { what: "the quick environment's first document", timeoutMs: 10_000 });
  slowWrite.open();
  // Once the slow one has written its records, the quick one runs again: its document is
  // written while the slow one's are still held.
  await waitFor(async () => (await f.store.getDesired(quick.id, "h1"))?.instances.length === 3,
    { what: "the quick environment's second service placed and told while the slow one's documents wait", timeoutMs: 10_000 });
  t.equal((await f.store.list(slow.id, "instance")).length, 2, "the slow environment's instances are written");
  t.notOk((await f.store.getDesired(slow.id, "h1"))?.instances.length, "the slow environment's document is still held back");
  slowDesired.open();
  await waitFor(async () => (await f.store.getDesired(slow.id, "h1"))?.instances.length === 2,
    { what: "the slow environment's document written once let go", timeoutMs: 10_000 });
});
