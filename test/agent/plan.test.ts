import t from "tap";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import type { DesiredInstance } from "../../runtime/protocol/model";
import { createOptions, instanceLabels } from "../../agent/docker/container-config";
import { ManagedContainer, planHost, shouldStart } from "../../agent/plan";
import { canonicalJson, specHash } from "../../agent/spec-hash";
import { spec } from "./support/docker-fixture";

// planHost is pure: these cases run without Docker or Redis.
const ctx = { envId: "e1", hostId: "h1" };

function inst(id: string, name = `stk-${id}`, s = spec()): DesiredInstance {
  return { id, name, serviceId: "svc", stackId: "stk", spec: s };
}

function containerFor(i: DesiredInstance, over: Partial<ManagedContainer> = {}, hostId = ctx.hostId): ManagedContainer {
  return { id: `c-${i.id}`, name: i.name, state: "running", labels: instanceLabels(i, { ...ctx, hostId }), ...over };
}

const doc = (instances: DesiredInstance[]) => ({ hostId: ctx.hostId, generation: 1, instances });

t.test("a missing instance is created", async (t) => {
  const a = inst("a"), b = inst("b");
  const actions = planHost(doc([a, b]), [containerFor(a)]);
  t.same(actions, [{ kind: "create", instance: b }]);
});

t.test("a container whose instance is no longer desired is removed", async (t) => {
  const a = inst("a"), gone = inst("gone");
  const actions = planHost(doc([a]), [containerFor(a), containerFor(gone)]);
  t.same(actions, [{ kind: "remove", containerId: "c-gone", name: gone.name, instanceId: "gone", reason: "not-desired" }]);
});

t.test("a changed spec hash means recreate", async (t) => {
  const old = inst("a");
  const changed = inst("a", old.name, spec({ image: "local/busybox:v2" }));
  const actions = planHost(doc([changed]), [containerFor(old)]);
  t.same(actions, [{ kind: "recreate", containerId: "c-a", instance: changed, reason: "spec-changed" }]);
});

t.test("a matching running container needs nothing", async (t) => {
  const a = inst("a");
  t.same(planHost(doc([a]), [containerFor(a)]), []);
});

t.test("containers drover did not create for this host are ignored", async (t) => {
  const a = inst("a");
  const foreignSameName: ManagedContainer = { id: "f1", name: a.name, state: "exited", labels: {} };
  const otherHost = containerFor(inst("x"), {}, "h2");
  const notManaged: ManagedContainer = { id: "f2", name: "stk-y", state: "running", labels: { [containerLabels.host]: ctx.hostId, [containerLabels.instance]: "y" } };
  const actions = planHost(doc([a]), [foreignSameName, otherHost, notManaged]);
  t.same(actions, [{ kind: "create", instance: a }], "only the create: nothing is done to foreign containers");
});

t.test("a stopped container is started only when its restart policy says it should run", async (t) => {
  const always = inst("a", "stk-a", spec({ restartPolicy: { name: "always" } }));
  const no = inst("b", "stk-b", spec({ restartPolicy: { name: "no" } }));
  const unless = inst("c", "stk-c", spec({ restartPolicy: { name: "unless-stopped" } }));
  const onFailure = inst("d", "stk-d", spec({ restartPolicy: { name: "on-failure", maximumRetryCount: 3 } }));
  const neverStarted = inst("e", "stk-e", spec({ restartPolicy: { name: "no" } }));
  const actions = planHost(doc([always, no, unless, onFailure, neverStarted]), [
    containerFor(always, { state: "exited" }),
    containerFor(no, { state: "exited" }),
    containerFor(unless, { state: "exited" }),
    containerFor(onFailure, { state: "exited" }),
    containerFor(neverStarted, { state: "created" }),
  ]);
  t.same(actions, [
    { kind: "start", containerId: "c-a", instance: always },
    { kind: "start", containerId: "c-e", instance: neverStarted },
  ]);
  t.notOk(shouldStart("restarting", { name: "always" }), "Docker is already restarting it");
  t.notOk(shouldStart("running", { name: "always" }));
});

t.test("a dead or renamed container is recreated; duplicates of one instance are removed", async (t) => {
  const a = inst("a"), b = inst("b");
  const actions = planHost(doc([a, b]), [
    containerFor(a, { state: "dead" }),
    containerFor(b, { id: "c-b-old", name: "old-name" }),
    containerFor(b, { id: "c-b", state: "running" }),
  ]);
  t.same(actions, [
    { kind: "remove", containerId: "c-b-old", name: "old-name", instanceId: "b", reason: "duplicate" },
    { kind: "recreate", containerId: "c-a", instance: a, reason: "dead" },
  ]);
});

t.test("removals come before creates so names and ports are free", async (t) => {
  const gone = inst("gone", "stk-web-1");
  const fresh = inst("new", "stk-web-1");
  const actions = planHost(doc([fresh]), [containerFor(gone)]);
  t.same(actions.map((a) => a.kind), ["remove", "create"]);
});

t.test("spec hash is canonical: key order does not matter, values do", async (t) => {
  const a = spec({ env: { A: "1", B: "2" }, labels: { x: "1" } });
  const b = { labels: { x: "1" }, restartPolicy: a.restartPolicy, ports: [], env: { B: "2", A: "1" }, command: a.command, image: a.image };
  t.equal(specHash(a), specHash(b));
  t.not(specHash(a), specHash(spec({ env: { A: "1", B: "3" } })));
  t.equal(canonicalJson({ b: 1, a: [2, { d: undefined, c: 3 }] }), '{"a":[2,{"c":3}],"b":1}');
});

t.test("create options: name, labels (drover's win), ports, restart policy, env", async (t) => {
  const i = inst("a", "stk-web-1", spec({
    image: "local/busybox",
    env: { MODE: "x" },
    labels: { [containerLabels.host]: "forged", "io.rancher.stack.name": "stk", team: "blue" },
    ports: [{ containerPort: 80, hostPort: 8080, protocol: "tcp" }, { containerPort: 53, protocol: "udp" }],
    restartPolicy: { name: "on-failure", maximumRetryCount: 2 },
  }));
  const o = createOptions(i, ctx);
  t.equal(o.name, "stk-web-1");
  t.equal(o.Labels![containerLabels.host], "h1", "a spec label cannot forge the host label");
  t.equal(o.Labels![containerLabels.managed], "true");
  t.equal(o.Labels![containerLabels.instance], "a");
  t.equal(o.Labels![containerLabels.specHash], specHash(i.spec));
  t.equal(o.Labels!.team, "blue");
  t.equal(o.Labels![containerLabels.rancherContainerName], "stk-web-1");
  t.same(o.Env, ["MODE=x"]);
  t.same(o.ExposedPorts, { "80/tcp": {}, "53/udp": {} });
  t.same(o.HostConfig!.PortBindings, { "80/tcp": [{ HostPort: "8080" }] });
  t.same(o.HostConfig!.RestartPolicy, { Name: "on-failure", MaximumRetryCount: 2 });
});
