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
  let held = 0;
  const store = new Proxy(f.store, {
    get(target, prop, receiver) {
      if (prop === "setDesired") {
        return async (...args: Parameters<Store["setDesired"]>) => {
          if (args[0] === envId) {
            held++;
            await gate;
          }
          return target.setDesired(...args);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Store;
  return { store, held: () => held };
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
