import type { EnvironmentRecord, HostRecord, ServiceRecord, StackRecord } from "../../../runtime/protocol/model";
import type { StoreFixture } from "../store/store-fixture";

/**
 * Seeds a real store with environment `envId`: two active hosts (h1, h2) beating, one stack and
 * a `web` service of `scale` instances still to place. For tests that run passes on Redis.
 */
export async function seedTwoHostWebEnvironment(f: StoreFixture, envId: string, scale: number): Promise<ServiceRecord> {
  const now = () => new Date().toISOString();
  const env: Omit<EnvironmentRecord, "rev"> = { id: envId, name: envId, network: { cidr: "10.42.0.0/16", hostSubnetPrefix: 24 }, state: "active", createdAt: now() };
  await f.store.createEnvironment(env, `k-${envId}`, `t-${envId}`);
  const host = (id: string): HostRecord => ({ id, envId, name: id, labels: {}, state: "active", deactivated: false, createdAt: now(), rev: 0 });
  const stack: StackRecord = { id: "st1", envId, name: "app", state: "active", createdAt: now(), rev: 0 };
  const service: ServiceRecord = {
    id: "1sweb", envId, stackId: "st1", name: "web", specVersion: 1, state: "active", transitioning: "yes", createdAt: now(), rev: 0,
    spec: { image: "local/busybox", env: {}, ports: [], scale, global: false, links: {}, labels: {}, restartPolicy: { name: "always" } },
  };
  await f.store.write(envId, { put: [{ kind: "host", record: host("h1") }, { kind: "host", record: host("h2") }, { kind: "stack", record: stack }, { kind: "service", record: service }] });
  for (const h of ["h1", "h2"]) await f.redis.set(f.keys.host(envId, h).heartbeat, "{}", "PX", 120_000);
  return service;
}
