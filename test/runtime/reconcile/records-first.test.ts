import t from "tap";
import type { HostRecord, ServiceRecord, StackRecord } from "../../../runtime/protocol/model";
import { ReconcileManager } from "../../../runtime/reconcile/manager";
import type { Store } from "../../../runtime/store/store";
import { waitFor } from "../../support/wait";
import { storeFixture } from "../store/store-fixture";

// A server leading several environments writes every due environment's records before any of
// their desired documents (manager.ts): the second environment's placements do not wait for the
// first one's documents. Each environment still gets its DNS and documents after its records.
const f = storeFixture(t);
const now = () => new Date().toISOString();

async function seed(envId: string): Promise<void> {
  await f.store.createEnvironment({ id: envId, name: envId, network: { cidr: "10.42.0.0/16", hostSubnetPrefix: 24 }, state: "active", createdAt: now() }, `k-${envId}`, `t-${envId}`);
  const host: HostRecord = { id: "h1", envId, name: "h1", labels: {}, state: "active", deactivated: false, createdAt: now(), rev: 0 };
  const stack: StackRecord = { id: "st1", envId, name: "app", state: "active", createdAt: now(), rev: 0 };
  const service: ServiceRecord = {
    id: "1sweb", envId, stackId: "st1", name: "web", specVersion: 1, state: "active", transitioning: "yes", createdAt: now(), rev: 0,
    spec: { image: "local/busybox", env: {}, ports: [], scale: 3, global: false, links: {}, labels: {}, restartPolicy: { name: "always" } },
  };
  await f.store.write(envId, { put: [{ kind: "host", record: host }, { kind: "stack", record: stack }, { kind: "service", record: service }] });
  await f.redis.set(f.keys.host(envId, "h1").heartbeat, "{}", "PX", 120_000);
}

t.test("every due environment's records are written before any of their documents", async (t) => {
  const envs = ["e-first-a", "e-first-b"];
  for (const e of envs) await seed(e);
  const calls: string[] = [];
  const store = new Proxy(f.store, {
    get(target, prop, receiver) {
      if (prop === "writeOn" || prop === "setDesired" || prop === "setDns") {
        return (envId: string, ...rest: unknown[]) => {
          calls.push(`${String(prop)} ${envId}`);
          return (target[prop] as (...a: unknown[]) => Promise<unknown>).call(target, envId, ...rest);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Store;
  const manager = new ReconcileManager({
    store, lease: f.lease, redis: f.redis, blockingRedis: f.connect(), keys: f.keys, serverId: "srv-first",
    graceMs: 30_000, tickMs: 500, leaseTtlMs: 5_000, log: () => undefined,
  });
  manager.start();
  t.teardown(() => manager.stop());
  for (const e of envs) {
    await waitFor(async () => (await f.store.list(e, "instance")).length === 3 && (await f.store.getDesired(e, "h1"))?.instances.length === 3,
      { what: `${e}: three instances placed and in h1's document`, timeoutMs: 10_000 });
  }
  const first = (call: string) => calls.indexOf(call);
  const lastRecords = Math.max(...envs.map((e) => first(`writeOn ${e}`)));
  const firstDocument = Math.min(...envs.flatMap((e) => [first(`setDesired ${e}`), first(`setDns ${e}`)]).filter((i) => i >= 0));
  t.ok(envs.every((e) => first(`writeOn ${e}`) >= 0), "both environments wrote records");
  t.ok(lastRecords < firstDocument, `both environments' first records before the first document (${calls.slice(0, 8).join(", ")})`);
  for (const e of envs) t.ok(first(`writeOn ${e}`) < first(`setDesired ${e}`), `${e}: its records before its documents`);
});
