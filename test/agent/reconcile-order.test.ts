import { randomBytes } from "crypto";
import Redis from "ioredis";
import t from "tap";
import { DockerContainers } from "../../agent/docker/containers";
import { createLogger } from "../../agent/log";
import type { ManagedContainer } from "../../agent/plan";
import { inspectionOrder, networkKey, Reconciler } from "../../agent/reconcile";
import { RedisLink } from "../../agent/redis-link";
import { Reports } from "../../agent/reports";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import { makeKeys } from "../../runtime/protocol/keys";
import type { DesiredInstance, HostDesiredState, HostNetworkSpec, HostNetworkStatus, HostObservedState } from "../../runtime/protocol/model";
import { waitFor } from "../support/wait";
import { dockerClient, instance, removeTestContainers, spec, testImage } from "./support/docker-fixture";

// The order of a reconcile's steps: the network before the containers the first time (and
// whenever its spec changes), beside them once settled; inspects for the report side by side.

t.test("networkKey: what the bridge and rules depend on", async (t) => {
  const net = (subnet: string): HostNetworkSpec => ({ cidr: "10.42.0.0/16", subnet, gateway: subnet.replace(/0\/24$/, "1"), peers: [], ipsec: { pskId: "k1", psk: "x" } } as unknown as HostNetworkSpec);
  t.equal(networkKey(undefined), undefined);
  t.equal(networkKey(net("10.42.1.0/24")), networkKey({ ...net("10.42.1.0/24"), peers: [{ hostId: "h2" } as never] }), "peers are not the bridge's business");
  t.not(networkKey(net("10.42.1.0/24")), networkKey(net("10.42.2.0/24")), "a new subnet is a new key");
});

t.test("inspectionOrder: one entry per desired instance, its desired-named container first", async (t) => {
  const c = (id: string, name: string, instanceId?: string): ManagedContainer =>
    ({ id, name, state: "running", labels: instanceId ? { [containerLabels.instance]: instanceId } : {} });
  const desired = { instances: [{ id: "a", name: "stk-web-1" }, { id: "b", name: "stk-web-2" }] as DesiredInstance[] };
  const order = inspectionOrder(desired, [
    c("c1", "old-name", "a"), c("c2", "stk-web-1", "a"), c("c3", "stk-web-2", "b"),
    c("c4", "stk-gone-1", "gone"), c("c5", "unlabelled"),
  ]);
  t.same(order, [{ instanceId: "a", containerIds: ["c2", "c1"] }, { instanceId: "b", containerIds: ["c3"] }]);
  t.same(inspectionOrder(desired, []), [], "nothing listed, nothing to inspect");
});

/** A network manager whose applies the test holds open, recording when they begin and end. */
class HeldNetwork {
  private release?: () => void;
  private held?: Promise<void>;
  /** Runs when a held apply is let go, before it resolves (the "repair" it made). */
  private onRelease?: () => Promise<void>;

  constructor(private readonly events: string[]) {}

  hold(onRelease?: () => Promise<void>): void {
    this.held = new Promise((resolve) => { this.release = resolve; });
    this.onRelease = onRelease;
  }

  letGo(): void {
    this.release?.();
  }

  async apply(spec: HostNetworkSpec | undefined): Promise<void> {
    this.events.push(`network ${spec?.subnet}`);
    const held = this.held;
    this.held = undefined;
    if (held) {
      await held;
      await this.onRelease?.();
    }
    this.events.push("network done");
  }

  status(): HostNetworkStatus {
    return { ipsecMode: "none", charon: "not-needed", tunnels: {} };
  }
}

/** The real Docker layer, with its calls recorded in the shared event list. */
class RecordedContainers extends DockerContainers {
  constructor(private readonly events: string[], ...args: ConstructorParameters<typeof DockerContainers>) {
    super(...args);
  }

  override async list(): Promise<ManagedContainer[]> {
    this.events.push("list");
    return super.list();
  }

  override async createAndStart(inst: DesiredInstance): Promise<{ containerId: string; adopted: boolean }> {
    this.events.push(`create ${inst.name}`);
    const out = await super.createAndStart(inst);
    this.events.push(`created ${inst.name}`);
    return out;
  }
}

t.test("Reconciler: the network first until settled, then beside the containers; a failure beside it is retried", async (t) => {
  const suffix = randomBytes(4).toString("hex");
  const prefix = `dro${suffix}-`;
  const hostId = `h${suffix}`;
  const envId = `e${suffix}`;
  const keyPrefix = `drover-order-test-${suffix}`;
  const keys = makeKeys(keyPrefix).host(envId, hostId);
  const docker = dockerClient();
  const admin = new Redis("redis://127.0.0.1:6379");
  const logLines: string[] = [];
  const log = createLogger((l) => logLines.push(l), "debug");
  const link = new RedisLink({ url: "redis://127.0.0.1:6379", username: "default", password: "", keyPrefix }, hostId, log);
  const missingImage = `local/drover-order-${suffix}:later`;
  t.teardown(async () => {
    link.close();
    await removeTestContainers(docker, prefix, [hostId]);
    await docker.getImage(missingImage).remove().catch(() => undefined);
    const left = await admin.keys(`${keyPrefix}*`);
    if (left.length) await admin.del(...left);
    admin.disconnect();
  });
  link.connect();
  await waitFor(() => link.isReady(), { what: "the agent's redis link" });

  const events: string[] = [];
  const network = new HeldNetwork(events);
  const containers = new RecordedContainers(events, docker, { envId, hostId }, log);
  const reconciler = new Reconciler(link, keys, hostId, containers, new Reports(link, keys), log, network);
  const net = (subnet: string) => ({ cidr: "10.42.0.0/16", subnet, gateway: subnet.replace(/0\/24$/, "1"), peers: [] }) as unknown as HostNetworkSpec;
  const a = instance(prefix, "ia", "web-1"), b = instance(prefix, "ib", "web-2"), c = instance(prefix, "ic", "web-3");
  const d = instance(prefix, "id", "web-4", spec({ image: missingImage }));
  let generation = 0;
  const desire = async (instances: DesiredInstance[], subnet: string) => {
    const doc: HostDesiredState = { hostId, generation: ++generation, instances, network: net(subnet) };
    await admin.set(keys.desired, JSON.stringify(doc));
  };
  const observed = async (): Promise<HostObservedState | undefined> => {
    const text = await admin.get(keys.observed);
    return text ? JSON.parse(text) : undefined;
  };
  const since = (mark: number) => events.slice(mark);

  // 1. A first network spec: applied before the containers are even listed.
  await desire([a], "10.42.1.0/24");
  await reconciler.reconcile(["start"]);
  t.same(events.slice(0, 3), ["network 10.42.1.0/24", "network done", "list"], "network, then the containers");
  t.equal((await observed())?.instances[a.id]?.state, "running");

  // 2. The same spec: the verification is held open, yet the new container is made meanwhile;
  //    the report waits for the verification (it carries the network's status).
  let mark = events.length;
  await desire([a, b], "10.42.1.0/24");
  network.hold();
  const second = reconciler.reconcile(["nudge"]);
  await waitFor(() => events.includes(`created ${b.name}`), { what: `${b.name} created while the network is verified`, timeoutMs: 30_000 });
  t.notOk(since(mark).includes("network done"), "the verification is still running");
  t.equal((await observed())?.appliedGeneration, 1, "no report before the verification ends");
  network.letGo();
  await second;
  t.equal((await observed())?.appliedGeneration, 2);
  t.equal((await observed())?.instances[b.id]?.state, "running");

  // 3. A new subnet: the network comes first again. A Redis round trip after the apply began
  //    gives a reconcile that did not wait every chance to list containers meanwhile.
  mark = events.length;
  await desire([a, b, c], "10.42.2.0/24");
  network.hold();
  const third = reconciler.reconcile(["nudge"]);
  await waitFor(() => since(mark).includes("network 10.42.2.0/24"), { what: "the new network applied" });
  await admin.ping();
  t.same(since(mark), ["network 10.42.2.0/24"], "nothing listed or created while the new network is applied");
  network.letGo();
  await third;
  t.same(since(mark).slice(0, 3), ["network 10.42.2.0/24", "network done", "list"]);
  t.equal((await observed())?.instances[c.id]?.state, "running");

  // 4. Settled again: a create that fails while the verification runs (its image appears only
  //    when the verification ends, as a bridge would after a repair) is tried once more after it.
  mark = events.length;
  await desire([a, b, c, d], "10.42.2.0/24");
  network.hold(async () => { await docker.getImage(testImage).tag({ repo: missingImage.split(":")[0], tag: "later" }); });
  const fourth = reconciler.reconcile(["nudge"]);
  await waitFor(() => logLines.some((l) => l.includes("create failed") && l.includes(d.id)), { what: `${d.name}'s first create to fail`, timeoutMs: 60_000 });
  network.letGo();
  await fourth;
  t.equal(since(mark).filter((e) => e === `create ${d.name}`).length, 2, "created again after the verification");
  const status = (await observed())?.instances[d.id];
  t.equal(status?.state, "running");
  t.notOk(status?.error, "the first attempt's error is not reported");
});
