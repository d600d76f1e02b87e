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
  const gates = armedGates(envId, { desired: gate });
  gates.armed = true;
  return { store: gates.store, held: () => gates.held.desired };
}

/**
 * The store, with `envId`'s desired documents (`desired`) and record writes (`write`) going on
 * only once their gate opens, from the moment `armed` is set.
 */
function armedGates(envId: string, gates: { desired?: Promise<void>; write?: Promise<void> }) {
  const state = { armed: false, held: { desired: 0, write: 0 }, store: undefined as unknown as Store };
  const gated = { setDesired: "desired", writeOn: "write" } as const;
  state.store = new Proxy(f.store, {
    get(target, prop, receiver) {
      const which = gated[prop as keyof typeof gated];
      const gate = which && gates[which];
      if (gate) {
        return async (...args: unknown[]) => {
          if (args[0] === envId && state.armed) {
            state.held[which]++;
            await gate;
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

t.test("the next environment's pass starts once the one before has written its records", async (t) => {
  // Created first, so it comes first in every loop over the led environments.
  const first = await environment("e-first");
  const second = await environment("e-second");
  let open!: () => void;
  const gate = new Promise<void>((resolve) => { open = resolve; });
  const { store, held } = gatedDesired(first.id, gate);
  const manager = new ReconcileManager({
    store, lease: f.lease, redis: f.redis, blockingRedis: f.connect(), keys: f.keys, serverId: "srv-turn",
    graceMs: 30_000, tickMs: 200, leaseTtlMs: 5_000, log: () => undefined,
  });
  manager.start();
  t.teardown(async () => {
    open();
    await manager.stop();
  });

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

  open();
  const firstDoc = await waitFor(async () => {
    const doc = await f.store.getDesired(first.id, "h1");
    return doc?.instances.length === 2 ? doc : undefined;
  }, { what: "the first environment's desired document written once let go", timeoutMs: 10_000 });
  t.equal(firstDoc.instances.length, 2, "the first environment's agent is told of its instances too");
});

t.test("an environment written to while another's pass runs starts before that pass's documents are all written", async (t) => {
  const first = await environment("e-busy");
  const second = await environment("e-late");
  let openDesired!: () => void;
  let openWrite!: () => void;
  const gate = new Promise<void>((resolve) => { openDesired = resolve; });
  const writeGate = new Promise<void>((resolve) => { openWrite = resolve; });
  const gates = armedGates(first.id, { desired: gate, write: writeGate });
  const store = gates.store;
  const manager = new ReconcileManager({
    store, lease: f.lease, redis: f.redis, blockingRedis: f.connect(), keys: f.keys, serverId: "srv-late",
    graceMs: 30_000, tickMs: 200, leaseTtlMs: 5_000, log: () => undefined,
  });
  manager.start();
  t.teardown(async () => {
    openWrite();
    openDesired();
    await manager.stop();
  });
  // Both environments' first passes (new leader: both due at once) done, so the next round has the first one alone.
  await waitFor(() => manager.passesOf(first.id) >= 1 && manager.passesOf(second.id) >= 1, { what: "both environments' first passes", timeoutMs: 10_000 });
  gates.armed = true;

  await f.store.write(first.id, { put: [{ kind: "service", record: service(first.id, 2) }] });
  await waitFor(() => gates.held.write > 0, { what: "the first environment's pass at its records write", timeoutMs: 10_000 });
  // The second environment gets work while the first's pass is under way: not due when it began.
  await f.store.write(second.id, { put: [{ kind: "service", record: service(second.id, 2) }] });
  openWrite();
  const placed = async (envId: string) => (await f.store.list(envId, "instance")).length;
  await waitFor(async () => (await placed(first.id)) === 2 && gates.held.desired > 0, { what: "the first environment's instances written, its desired document held back", timeoutMs: 10_000 });
  await waitFor(async () => (await f.store.getDesired(second.id, "h1"))?.instances.length === 2,
    { what: "the second environment placed and told while the first's documents wait", timeoutMs: 10_000 });
  t.equal(await placed(second.id), 2, "the second environment's instances are placed");
  t.notOk((await f.store.getDesired(first.id, "h1"))?.instances.length, "the first environment's document is still held back");
  openDesired();
  await waitFor(async () => (await f.store.getDesired(first.id, "h1"))?.instances.length === 2,
    { what: "the first environment's desired document written once let go", timeoutMs: 10_000 });
});
